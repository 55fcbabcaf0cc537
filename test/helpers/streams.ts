// Seeded event streams with out-of-order, too-late and duplicate events, for store tests.
import type { EntityBatch, EntityEvent } from '../../src/features/store.js';
import type { WindowSpec } from '../../src/features/windows.js';
import { Random } from '../../src/simulate/random.js';

export interface StreamOptions {
  seed: number;
  events: number;
  entities: number;
  /** Share of events delivered late (within `maxDelayMs`). */
  outOfOrder: number;
  maxDelayMs: number;
  duplicates: number;
  startMs: number;
  meanGapMs: number;
  /** Per distinct field, how many values it takes (events then carry EntityEvent.distinct, and a random filter mask of 2 bits). */
  values?: number[];
}

/** Windows of every kind: plain, filtered (bits 1 and 2 of the mask), with extremes, with distinct counts of fields 0 and 1. */
export function richWindows(spec: (name: string) => WindowSpec): WindowSpec[] {
  return [
    spec('10m'),
    { ...spec('1h'), extremes: true, distinct: [{ field: 0, name: 'cardId', limit: 5 }] },
    { ...spec('1h'), filter: { bit: 1, expression: 'event.amount < 20.0' }, extremes: true },
    { ...spec('1d'), distinct: [{ field: 1, name: 'merchantId', limit: 100 }, { field: 0, name: 'cardId', limit: 100 }] },
    { ...spec('30d'), filter: { bit: 2, expression: "event.channel == 'ecom'" }, distinct: [{ field: 1, name: 'merchantId', limit: 100 }] },
  ];
}

/** Events for `entities` entity ids, in arrival order (mostly event-time order). */
export function messyStream(o: StreamOptions): { id: string; event: EntityEvent }[] {
  const rng = new Random(o.seed);
  let t = o.startMs;
  const out: { id: string; event: EntityEvent; arrival: number }[] = [];
  for (let i = 0; i < o.events; i++) {
    t += Math.round(rng.exponential(o.meanGapMs));
    const late = rng.chance(o.outOfOrder);
    const eventTimeMs = late ? t - rng.int(1, o.maxDelayMs) : t;
    const event: EntityEvent = { transactionId: `tx-${o.seed}-${i}`, eventTimeMs, amount: Math.round(rng.logNormal(3, 1) * 100) / 100 };
    if (o.values !== undefined) {
      event.mask = rng.int(0, 3);
      event.distinct = Float64Array.from(o.values, (n) => (rng.chance(0.05) ? NaN : rng.int(1, n)));
    }
    const id = `e${Math.floor(rng.next() ** 2 * o.entities)}`;
    out.push({ id, event, arrival: t });
    if (rng.chance(o.duplicates)) out.push({ id, event: { ...event }, arrival: t + rng.int(0, 600_000) });
  }
  return out.sort((a, b) => a.arrival - b.arrival).map(({ id, event }) => ({ id, event }));
}

/** Groups a slice of the stream into per-entity batches, keeping arrival order inside each. */
export function toBatches(slice: { id: string; event: EntityEvent }[], windows: WindowSpec[]): EntityBatch[] {
  const byId = new Map<string, EntityBatch>();
  for (const { id, event } of slice) {
    let b = byId.get(id);
    if (!b) byId.set(id, (b = { entity: 'account', id, windows, events: [] }));
    b.events.push(event);
  }
  return [...byId.values()];
}
