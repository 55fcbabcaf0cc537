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
    const event = { transactionId: `tx-${o.seed}-${i}`, eventTimeMs, amount: Math.round(rng.logNormal(3, 1) * 100) / 100 };
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
