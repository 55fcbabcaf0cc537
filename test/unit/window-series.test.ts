// Filtered windows, min and max, and distinct counts: the store's ring buffers answer exactly
// what a from-scratch recomputation over every applied event answers, event by event, on
// streams with out-of-order, duplicated, too-late and read-only events.
import { describe, expect, it } from 'vitest';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import type { EntityBatch, EntityEvent } from '../../src/features/store.js';
import { windowSpec, type WindowSpec } from '../../src/features/windows.js';
import { Random } from '../../src/simulate/random.js';
import { ReferenceEntity } from '../helpers/reference-windows.js';

const MIN = 60_000;
const T0 = Date.parse('2026-04-01T00:00:00Z');

function series(name: string, extra: Partial<WindowSpec>): WindowSpec {
  return { ...windowSpec(name), ...extra };
}

/** Several entities' events in arrival order: integer amounts, so sums are exact whatever the order. */
function stream(seed: number, events: number, o: { lateMs: number; late: number; tooLate: number; duplicates: number; readOnly: number; values: number[] }): { id: string; event: EntityEvent }[] {
  const rng = new Random(seed);
  let t = T0;
  const out: { id: string; event: EntityEvent }[] = [];
  for (let i = 0; i < events; i++) {
    t += rng.int(0, 3 * MIN);
    const id = `e${rng.int(0, 4)}`;
    let time = t;
    if (rng.chance(o.late)) time -= rng.int(0, o.lateMs);
    if (rng.chance(o.tooLate)) time -= o.lateMs + rng.int(MIN, 60 * MIN);
    const distinct = Float64Array.from(o.values, (cardinality) => (rng.chance(0.1) ? NaN : rng.int(1, cardinality)));
    const event: EntityEvent = { transactionId: `t${i}`, eventTimeMs: time, amount: rng.int(0, 500), mask: rng.int(0, 3), distinct };
    if (rng.chance(o.readOnly)) event.readOnly = true;
    out.push({ id, event });
    if (rng.chance(o.duplicates)) out.push({ id, event: { ...event } });
  }
  return out;
}

async function compareWithReference(windows: WindowSpec[], lateness: number, events: { id: string; event: EntityEvent }[], batchSize: number): Promise<{ compared: number; late: number }> {
  const store = new MemoryFeatureStore({ allowedLatenessMs: lateness });
  const reference = new Map<string, ReferenceEntity>();
  let compared = 0;
  let late = 0;
  for (let i = 0; i < events.length; i += batchSize) {
    const byId = new Map<string, EntityBatch>();
    for (const { id, event } of events.slice(i, i + batchSize)) {
      let batch = byId.get(id);
      if (!batch) byId.set(id, (batch = { entity: 'account', id, windows, events: [] }));
      batch.events.push(event);
    }
    const batches = [...byId.values()];
    const observed = await store.observe(batches);
    batches.forEach((batch, b) => {
      let ref = reference.get(batch.id);
      if (!ref) reference.set(batch.id, (ref = new ReferenceEntity(windows, lateness)));
      observed.entry(b).forEach((got, k) => {
        const want = (ref).observe(batch.events[k] as EntityEvent);
        expect([got.duplicate, got.tooLate, got.previousTimeMs]).toEqual([want.duplicate, want.tooLate, want.previousTimeMs]);
        // An event older than the lateness is read on a best effort: its buckets may have left the ring.
        if (!want.bestEffort) expect(got.windows).toEqual(want.windows);
        else late++;
        compared++;
      });
    });
  }
  return { compared, late };
}

describe('window series against a from-scratch recomputation', () => {
  const windows = [
    series('10m', { extremes: true, distinct: [{ field: 0, name: 'a', limit: 3 }] }),
    series('1h', { filter: { bit: 1, expression: 'f1' }, extremes: true, distinct: [{ field: 0, name: 'a', limit: 3 }, { field: 1, name: 'b', limit: 50 }] }),
    series('1h', {}),
    series('1d', { filter: { bit: 2, expression: 'f2' }, distinct: [{ field: 1, name: 'b', limit: 1000 }] }),
  ];

  it('agrees on every event, one event per call', async () => {
    const events = stream(1, 3000, { lateMs: 30 * MIN, late: 0.3, tooLate: 0.03, duplicates: 0.05, readOnly: 0.05, values: [6, 80] });
    const { compared, late } = await compareWithReference(windows, 30 * MIN, events, 1);
    expect(compared).toBe(events.length);
    expect(late).toBeGreaterThan(10);
  });

  it('agrees on every event in batches (running windows built once per call)', async () => {
    const events = stream(2, 6000, { lateMs: 20 * MIN, late: 0.4, tooLate: 0.02, duplicates: 0.05, readOnly: 0.05, values: [6, 80] });
    const { compared } = await compareWithReference(windows, 20 * MIN, events, 500);
    expect(compared).toBe(events.length);
  });

  it('agrees when the lateness is longer than a window (a late window shares no bucket with the running one)', async () => {
    const short = [series('5m', { extremes: true, distinct: [{ field: 0, name: 'a', limit: 100 }] })];
    const events = stream(3, 3000, { lateMs: 45 * MIN, late: 0.5, tooLate: 0.01, duplicates: 0.02, readOnly: 0.05, values: [30] });
    const { compared } = await compareWithReference(short, 45 * MIN, events, 50);
    expect(compared).toBe(events.length);
  });
});

describe('distinct counts, min and max', () => {
  const windows = [series('1h', { extremes: true, distinct: [{ field: 0, name: 'cardId', limit: 3 }] })];
  const ev = (minute: number, amount: number, value: number, id = `x${minute}-${value}-${amount}`): EntityEvent => ({ transactionId: id, eventTimeMs: T0 + minute * MIN, amount, distinct: Float64Array.of(value) });

  it('counts distinct values up to the limit, exactly, and slides them out with their buckets', async () => {
    const store = new MemoryFeatureStore({ allowedLatenessMs: 15 * MIN });
    const obs = (await store.observe([{ entity: 'device', id: 'd', windows, events: [ev(0, 5, 1), ev(1, 9, 1), ev(6, 3, 2), ev(11, 4, 3), ev(16, 4, 4)] }])).entry(0);
    expect(obs.map((o) => o.windows[0]?.distinct?.[0])).toEqual([1, 1, 2, 3, 3]);
    expect(obs.map((o) => [o.windows[0]?.min, o.windows[0]?.max])).toEqual([[5, 5], [5, 9], [3, 9], [3, 9], [3, 9]]);
    // At 01:02 the window's first bucket is 00:05 (5-minute buckets): the first two have left.
    const [later] = (await store.observe([{ entity: 'device', id: 'd', windows, events: [ev(62, 7, 9)] }])).entry(0);
    expect(later?.windows[0]).toMatchObject({ count: 4, min: 3, max: 7, distinct: [3] });
    const [alone] = (await store.observe([{ entity: 'device', id: 'd', windows, events: [ev(130, 2, 9)] }])).entry(0);
    expect(alone?.windows[0]).toMatchObject({ count: 1, min: 2, max: 2, distinct: [1] });
  });

  it('reads a too-late event with itself in its window, without applying it', async () => {
    const store = new MemoryFeatureStore({ allowedLatenessMs: 15 * MIN });
    await store.observe([{ entity: 'device', id: 'd', windows, events: [ev(0, 5, 1), ev(60, 6, 2)] }]);
    // 00:40 is older than 01:00 minus 15 minutes: too late. Its window (23:15-00:40) holds 00:00.
    const obs = (await store.observe([{ entity: 'device', id: 'd', windows, events: [ev(40, 1, 3), ev(41, 9, 1)] }])).entry(0);
    expect(obs.map((o) => o.tooLate)).toEqual([true, true]);
    expect(obs[0]?.windows[0]).toMatchObject({ count: 2, min: 1, max: 5, distinct: [2] });
    expect(obs[1]?.windows[0]).toMatchObject({ count: 2, min: 5, max: 9, distinct: [1] });
    const [next] = (await store.observe([{ entity: 'device', id: 'd', windows, events: [ev(61, 7, 4)] }])).entry(0);
    expect(next?.windows[0]).toMatchObject({ count: 2, min: 6, max: 7, distinct: [2] });
  });

  it('does not count an event that lacks the field, nor one that fails the filter', async () => {
    const filtered = [series('1h', { filter: { bit: 1, expression: 'small' }, extremes: true, distinct: [{ field: 0, name: 'cardId', limit: 10 }] })];
    const store = new MemoryFeatureStore({ allowedLatenessMs: 15 * MIN });
    const events: EntityEvent[] = [
      { transactionId: 'a', eventTimeMs: T0, amount: 2, mask: 1, distinct: Float64Array.of(1) },
      { transactionId: 'b', eventTimeMs: T0 + MIN, amount: 900, mask: 0, distinct: Float64Array.of(2) },
      { transactionId: 'c', eventTimeMs: T0 + 2 * MIN, amount: 3, mask: 1, distinct: Float64Array.of(NaN) },
    ];
    const obs = (await store.observe([{ entity: 'device', id: 'd', windows: filtered, events }])).entry(0);
    expect(obs.map((o) => o.windows[0])).toEqual([
      { count: 1, sum: 2, sumSq: 4, min: 2, max: 2, distinct: [1] },
      { count: 1, sum: 2, sumSq: 4, min: 2, max: 2, distinct: [1] },
      { count: 2, sum: 5, sumSq: 13, min: 2, max: 3, distinct: [1] },
    ]);
  });
});
