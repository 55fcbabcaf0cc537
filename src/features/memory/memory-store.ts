// The in-memory feature store: the Redis script's algorithm, step for step, over Maps.
// Used by unit tests and the offline replay mode; test/unit/store-parity checks it
// against src/features/redis/observe-script.ts.
import type { EntityBatch, EntityEvent, EntityObservation, FeatureStore, StoreOptions, WindowAggregate } from '../store.js';
import type { WindowSpec } from '../windows.js';

interface WindowState {
  start: number;
  gc: number;
  total: WindowAggregate;
}

interface EntityState {
  last: number | null;
  windows: WindowState[];
  /** Per window, bucket index → aggregate. */
  buckets: Map<number, WindowAggregate>[];
  /** transactionId → event time, for events inside the allowed lateness. */
  seen: Map<string, number>;
}

const zero = (): WindowAggregate => ({ count: 0, sum: 0, sumSq: 0 });

export class MemoryFeatureStore implements FeatureStore {
  private readonly entities = new Map<string, EntityState>();

  constructor(private readonly options: StoreOptions) {}

  observe(batches: readonly EntityBatch[]): Promise<EntityObservation[][]> {
    return Promise.resolve(
      batches.map((batch) => {
        const state = this.stateFor(batch);
        const result = batch.events.map((event) => observeEvent(state, batch.windows, event, this.options.allowedLatenessMs));
        trimSeen(state, this.options.allowedLatenessMs);
        return result;
      }),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Number of entity instances held (for memory accounting in tests). */
  get size(): number {
    return this.entities.size;
  }

  private stateFor(batch: EntityBatch): EntityState {
    const key = `${batch.entity}:${batch.id}`;
    let state = this.entities.get(key);
    if (!state) {
      state = { last: null, windows: [], buckets: batch.windows.map(() => new Map()), seen: new Map() };
      this.entities.set(key, state);
    }
    return state;
  }
}

function sumBuckets(buckets: Map<number, WindowAggregate>, from: number, to: number): WindowAggregate {
  const acc = zero();
  for (let j = from; j <= to; j++) {
    const b = buckets.get(j);
    if (b) {
      acc.count += b.count;
      acc.sum += b.sum;
      acc.sumSq += b.sumSq;
    }
  }
  return acc;
}

function add(agg: WindowAggregate, amount: number): WindowAggregate {
  return { count: agg.count + 1, sum: agg.sum + amount, sumSq: agg.sumSq + amount * amount };
}

function observeEvent(state: EntityState, specs: readonly WindowSpec[], event: EntityEvent, lateness: number): EntityObservation {
  const { transactionId, eventTimeMs: ts, amount } = event;
  const last = state.last;
  const tooLate = last !== null && ts < last - lateness;
  const duplicate = state.seen.has(transactionId);
  const apply = !duplicate && !tooLate;
  const inOrder = last === null || ts >= last;
  const windows = specs.map((spec, i) => observeWindow(state, spec, i, { ts, amount, lateness, apply, inOrder, tooLate, duplicate }));
  const previousTimeMs = apply && inOrder ? last : null;
  if (apply && inOrder) state.last = ts;
  if (apply) state.seen.set(transactionId, ts);
  return { duplicate, tooLate: tooLate && !duplicate, previousTimeMs, windows };
}

interface Step {
  ts: number;
  amount: number;
  lateness: number;
  apply: boolean;
  inOrder: boolean;
  tooLate: boolean;
  duplicate: boolean;
}

function observeWindow(state: EntityState, spec: WindowSpec, i: number, step: Step): WindowAggregate {
  const buckets = state.buckets[i] as Map<number, WindowAggregate>;
  const b = Math.floor(step.ts / spec.bucketMs);
  const n = spec.buckets;
  if (!step.apply) {
    const read = sumBuckets(buckets, b - n + 1, b);
    return step.tooLate && !step.duplicate ? add(read, step.amount) : read;
  }
  const bucketAfter = add(buckets.get(b) ?? zero(), step.amount);
  let w = state.windows[i];
  if (step.inOrder) {
    buckets.set(b, bucketAfter);
    const newStart = b - n + 1;
    if (!w) {
      w = state.windows[i] = { start: newStart, gc: newStart, total: zero() };
    } else if (newStart > w.start) {
      advance(w, buckets, spec, newStart, step.ts - step.lateness);
    }
    w.total = add(w.total, step.amount);
    return { ...w.total };
  }
  // in the allowed lateness: counted in its bucket, and in the running total when inside it.
  // Read before the bucket is written, then add the event: the script's order of operations.
  const win = w as WindowState;
  if (b >= win.start) win.total = add(win.total, step.amount);
  const read = add(sumBuckets(buckets, b - n + 1, b), step.amount);
  buckets.set(b, bucketAfter);
  return read;
}

function advance(w: WindowState, buckets: Map<number, WindowAggregate>, spec: WindowSpec, newStart: number, horizonMs: number): void {
  const n = spec.buckets;
  const evicted = sumBuckets(buckets, w.start, Math.min(newStart - 1, w.start + n - 1));
  w.total = { count: w.total.count - evicted.count, sum: w.total.sum - evicted.sum, sumSq: w.total.sumSq - evicted.sumSq };
  if (newStart - w.start >= n || w.total.count <= 0) w.total = zero();
  const keepFrom = Math.floor(horizonMs / spec.bucketMs) - n + 1;
  for (let j = w.gc; j <= Math.min(keepFrom - 1, w.start + n - 1); j++) buckets.delete(j);
  if (keepFrom > w.gc) w.gc = keepFrom;
  w.start = newStart;
}

function trimSeen(state: EntityState, lateness: number): void {
  if (state.last === null) return;
  const horizon = state.last - lateness;
  for (const [tx, ts] of state.seen) if (ts < horizon) state.seen.delete(tx);
}
