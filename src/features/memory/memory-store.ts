// The in-memory feature store: the Redis script's algorithm, step for step, over Maps.
// Used by unit tests and the offline replay mode; test/integration/store-parity checks it
// against src/features/redis/observe-script.ts. Keep the order of float operations equal.
import type { EntityBatch, EntityEvent, EntityObservation, FeatureStore, StoreOptions, WindowAggregate } from '../store.js';
import { dedupeSpec, ringSlots, type DedupeSpec, type WindowSpec } from '../windows.js';

interface Bucket extends WindowAggregate {
  /** The bucket index the slot holds. */
  j: number;
}

interface WindowState {
  start: number | null;
  total: WindowAggregate;
  /** Ring slot → bucket. */
  ring: Map<number, Bucket>;
}

interface DedupeSlot {
  /** The dedupe bucket index the slot holds. */
  d: number;
  ids: Set<string>;
}

interface EntityState {
  last: number | null;
  windows: WindowState[];
  /** Ring slot → transaction ids applied in that bucket of event time. */
  seen: Map<number, DedupeSlot>;
}

const zero = (): WindowAggregate => ({ count: 0, sum: 0, sumSq: 0 });
const plus = (agg: WindowAggregate, amount: number): WindowAggregate => ({ count: agg.count + 1, sum: agg.sum + amount, sumSq: agg.sumSq + amount * amount });

export class MemoryFeatureStore implements FeatureStore {
  private readonly entities = new Map<string, EntityState>();

  private readonly dedupe: DedupeSpec;

  constructor(private readonly options: StoreOptions) {
    this.dedupe = dedupeSpec(options.allowedLatenessMs);
  }

  observe(batches: readonly EntityBatch[]): Promise<EntityObservation[][]> {
    const lateness = this.options.allowedLatenessMs;
    return Promise.resolve(
      batches.map((batch) => {
        const state = this.stateFor(batch);
        const rings = batch.windows.map((w) => ringSlots(w, lateness));
        return batch.events.map((event) => observeEvent(state, batch.windows, rings, this.dedupe, event, lateness));
      }),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Number of entity instances held. */
  get size(): number {
    return this.entities.size;
  }

  private stateFor(batch: EntityBatch): EntityState {
    const key = `${batch.entity}\u0000${batch.id}`;
    let state = this.entities.get(key);
    if (!state) {
      state = { last: null, windows: batch.windows.map(() => ({ start: null, total: zero(), ring: new Map() })), seen: new Map() };
      this.entities.set(key, state);
    }
    return state;
  }
}

interface Step {
  ts: number;
  amount: number;
  apply: boolean;
  inOrder: boolean;
  tooLate: boolean;
  duplicate: boolean;
}

function observeEvent(state: EntityState, specs: readonly WindowSpec[], rings: number[], dedupe: DedupeSpec, event: EntityEvent, lateness: number): EntityObservation {
  const { transactionId, eventTimeMs: ts, amount } = event;
  const last = state.last;
  const tooLate = last !== null && ts < last - lateness;
  const d = Math.floor(ts / dedupe.bucketMs);
  const slot = state.seen.get(d % dedupe.slots);
  const duplicate = !tooLate && slot !== undefined && slot.d === d && slot.ids.has(transactionId);
  const apply = !duplicate && !tooLate;
  const inOrder = last === null || ts >= last;
  const step: Step = { ts, amount, apply, inOrder, tooLate, duplicate };
  const windows = specs.map((spec, i) => observeWindow(state.windows[i] as WindowState, spec, rings[i] as number, step));
  const previousTimeMs = apply && inOrder ? last : null;
  if (apply && inOrder) state.last = ts;
  if (apply) {
    if (slot && slot.d === d) slot.ids.add(transactionId);
    else state.seen.set(d % dedupe.slots, { d, ids: new Set([transactionId]) });
  }
  return { duplicate, tooLate, previousTimeMs, windows };
}

function sumBuckets(w: WindowState, ring: number, from: number, to: number): WindowAggregate {
  const acc = zero();
  for (let j = from; j <= to; j++) {
    const b = w.ring.get(j % ring);
    if (b && b.j === j) {
      acc.count += b.count;
      acc.sum += b.sum;
      acc.sumSq += b.sumSq;
    }
  }
  return acc;
}

function observeWindow(w: WindowState, spec: WindowSpec, ring: number, step: Step): WindowAggregate {
  const b = Math.floor(step.ts / spec.bucketMs);
  const n = spec.buckets;
  if (!step.apply) {
    // too late (read, plus itself) or a duplicate (already in its bucket): not applied
    const read = sumBuckets(w, ring, b - n + 1, b);
    return step.tooLate ? plus(read, step.amount) : read;
  }
  const held = w.ring.get(b % ring);
  const bucket = { j: b, ...plus(held && held.j === b ? held : zero(), step.amount) };
  let result: WindowAggregate;
  if (step.inOrder) {
    const newStart = b - n + 1;
    if (w.start === null) {
      w.start = newStart;
    } else if (newStart > w.start) {
      if (newStart - w.start >= n) {
        w.total = zero();
      } else {
        // buckets [start, newStart) leave the running window
        const e = sumBuckets(w, ring, w.start, newStart - 1);
        w.total = { count: w.total.count - e.count, sum: w.total.sum - e.sum, sumSq: w.total.sumSq - e.sumSq };
        if (w.total.count <= 0) w.total = zero();
      }
      w.start = newStart;
    }
    w.total = plus(w.total, step.amount);
    result = { ...w.total };
  } else {
    // in the allowed lateness: counted in its bucket, and in the running total when inside it
    if (b >= (w.start as number)) w.total = plus(w.total, step.amount);
    result = plus(sumBuckets(w, ring, b - n + 1, b), step.amount);
  }
  w.ring.set(b % ring, bucket);
  return result;
}
