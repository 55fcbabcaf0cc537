import { describe, expect, it } from 'vitest';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import type { EntityEvent } from '../../src/features/store.js';
import { windowSpec } from '../../src/features/windows.js';

const H = 3_600_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const windows = [windowSpec('10m'), windowSpec('1h'), windowSpec('1d')];

function store(latenessMs = H): MemoryFeatureStore {
  return new MemoryFeatureStore({ allowedLatenessMs: latenessMs });
}

async function observe(s: MemoryFeatureStore, events: EntityEvent[], id = 'a1') {
  return (await s.observe([{ entity: 'account', id, windows, events }])).entry(0);
}

let n = 0;
const ev = (offsetMs: number, amount = 10, transactionId = `t${++n}`): EntityEvent => ({ transactionId, eventTimeMs: T0 + offsetMs, amount });

describe('memory feature store', () => {
  it('counts, sums and slides windows in event time', async () => {
    const s = store();
    await observe(s, [ev(0, 10), ev(60_000, 20), ev(5 * 60_000, 30)]);
    const [o] = await observe(s, [ev(30 * 60_000, 40)]);
    // 10m window: only this event; 1h and 1d: all four.
    expect(o?.windows[0]).toEqual({ count: 1, sum: 40, sumSq: 1600 });
    expect(o?.windows[1]?.count).toBe(4);
    expect(o?.windows[1]?.sum).toBe(100);
    expect(o?.windows[2]?.count).toBe(4);
    const [later] = await observe(s, [ev(2 * H, 5)]);
    expect(later?.windows[1]).toEqual({ count: 1, sum: 5, sumSq: 25 });
    expect(later?.windows[2]?.count).toBe(5);
    expect(later?.previousTimeMs).toBe(T0 + 30 * 60_000);
  });

  it('never applies a transactionId twice, within a batch or across batches', async () => {
    const s = store();
    const first = ev(0, 10, 'dup-1');
    const obs = await observe(s, [first, { ...first }, ev(1000, 5)]);
    expect(obs.map((o) => o.duplicate)).toEqual([false, true, false]);
    expect(obs[2]?.windows[0]?.count).toBe(2);
    const again = await observe(s, [{ ...first }]);
    expect(again[0]?.duplicate).toBe(true);
    const [next] = await observe(s, [ev(2000, 1)]);
    expect(next?.windows[0]?.count).toBe(3);
  });

  it('applies events that arrive late within the allowed lateness, and gives them their own-time view', async () => {
    const s = store();
    await observe(s, [ev(0, 1), ev(20 * 60_000, 1)]);
    const [late] = await observe(s, [ev(2 * 60_000, 100)]);
    expect(late?.tooLate).toBe(false);
    expect(late?.previousTimeMs).toBeNull();
    // As of 00:02 the 10m window holds the 00:00 event and itself, not the 00:20 one.
    expect(late?.windows[0]?.count).toBe(2);
    const [after] = await observe(s, [ev(21 * 60_000, 1)]);
    // The late event is inside the running 1h window now.
    expect(after?.windows[1]?.count).toBe(4);
    expect(after?.windows[1]?.sum).toBe(103);
  });

  it('decides but does not apply events older than the allowed lateness', async () => {
    const s = store(10 * 60_000);
    await observe(s, [ev(0, 1), ev(H, 1)]);
    const [tooLate] = await observe(s, [ev(10 * 60_000, 50)]);
    expect(tooLate?.tooLate).toBe(true);
    const [next] = await observe(s, [ev(H + 1000, 1)]);
    expect(next?.windows[2]?.count).toBe(3);
    expect(next?.windows[2]?.sum).toBe(3);
  });

  it('keeps entities apart', async () => {
    const s = store();
    await observe(s, [ev(0), ev(1)], 'x');
    const [o] = await observe(s, [ev(2)], 'y');
    expect(o?.windows[0]?.count).toBe(1);
    expect(s.size).toBe(2);
  });
});

describe('memory feature store, a busy entity', () => {
  it('recognises redelivered ids among thousands applied in the same dedupe bucket', async () => {
    const s = store();
    const burst = Array.from({ length: 3000 }, (_, k) => ev(k, 1, `burst-${k}`));
    const first = await observe(s, burst);
    expect(first.every((o) => !o.duplicate)).toBe(true);
    const again = await observe(s, burst.map((e) => ({ ...e })));
    expect(again.every((o) => o.duplicate)).toBe(true);
    const [fresh] = await observe(s, [ev(3000, 1, 'burst-new')]);
    expect(fresh?.duplicate).toBe(false);
    expect(fresh?.windows[0]?.count).toBe(3001);
  });
});

describe('memory feature store, live states over their budget', () => {
  it('encodes the untouched states and reads them back exactly as states kept live', async () => {
    const roomy = store();
    const tight = new MemoryFeatureStore({ allowedLatenessMs: H, liveBytes: 1 });
    const events = (k: number): EntityEvent[] => [ev(k * 60_000, k, `e${k}-a`), ev(k * 60_000 + 1, 2 * k, `e${k}-b`)];
    for (let k = 0; k < 40; k++) {
      const id = `acct-${k % 7}`;
      const batch = events(k);
      const [a, b] = [await observe(roomy, batch, id), await observe(tight, batch.map((e) => ({ ...e })), id)];
      expect(b).toEqual(a);
    }
    // Only the entity of the last call stays live in the tight store; every other one was encoded.
    expect(tight.live.states).toBe(1);
    expect(roomy.live.states).toBe(7);
    expect(tight.size).toBe(7);
    // A redelivery is still recognised after its state went through the encoded form.
    const [again] = await observe(tight, [{ ...ev(0, 0, 'e0-a') }], 'acct-0');
    expect(again?.duplicate).toBe(true);
  });
  it('reads entities without state as empty, call after call, and keeps nothing for them until an event is applied', async () => {
    const s = store();
    const read = (offsetMs: number): EntityEvent => ({ ...ev(offsetMs), readOnly: true });
    for (const id of ['m1', 'm2', 'm1']) {
      const [o] = await observe(s, [read(0), read(60_000)], id);
      expect(o?.windows).toEqual([0, 0, 0].map(() => ({ count: 0, sum: 0, sumSq: 0 })));
      expect(o?.previousTimeMs).toBeNull();
    }
    expect(s.size).toBe(0);
    await observe(s, [ev(0, 7)], 'm2');
    const [[m1], [m2]] = [await observe(s, [read(1000)], 'm1'), await observe(s, [read(1000)], 'm2')];
    expect(m1?.windows[0]).toEqual({ count: 0, sum: 0, sumSq: 0 });
    expect(m2?.windows[0]).toEqual({ count: 1, sum: 7, sumSq: 49 });
    expect(s.size).toBe(1);
  });
});
