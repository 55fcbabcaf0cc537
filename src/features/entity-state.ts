// One entity's window state and the algorithm that applies an event to it. Both stores run
// this same code: the memory store keeps states in a Map, the Redis store reads them,
// applies the batch here and writes them back with a compare-and-set.
//
// Each window is a ring of time buckets plus a running total: bucket j lives in ring slot
// j mod ringSlots, so a newer bucket overwrites an expired one and the state stays bounded
// with no clean-up pass; in-order events update the running total in O(1).
import type { EntityEvent, EntityObservation, WindowAggregate } from './store.js';
import type { StateSpec, WindowSpec } from './windows.js';

export interface WindowState {
  /** First bucket of the running window; null before the first event. */
  start: number | null;
  /** The running total over the window. */
  count: number;
  sum: number;
  sumSq: number;
  /** Ring slot k at [4k]: bucket index, count, sum, sumSq; a hole where the slot is empty. */
  ring: number[];
}

export interface DedupeSlot {
  /** The dedupe bucket (of event time) the slot holds. */
  d: number;
  /** Transaction ids applied in it, each followed by "\n", after a leading "\n". */
  ids: string;
}

export interface EntityState {
  last: number | null;
  windows: WindowState[];
  dedupe: Map<number, DedupeSlot>;
}

export function emptyState(spec: StateSpec): EntityState {
  return { last: null, windows: spec.rings.map(() => ({ start: null, count: 0, sum: 0, sumSq: 0, ring: [] })), dedupe: new Map() };
}

/** Applies one event (unless it is a duplicate or too late) and returns the state as of it. */
export function observeEvent(state: EntityState, spec: StateSpec, event: EntityEvent): { observation: EntityObservation; changed: boolean } {
  const { transactionId, eventTimeMs: ts, amount } = event;
  const last = state.last;
  const tooLate = last !== null && ts < last - spec.allowedLatenessMs;
  const d = Math.floor(ts / spec.dedupe.bucketMs);
  const slotKey = d % spec.dedupe.slots;
  const seen = state.dedupe.get(slotKey);
  const needle = `\n${transactionId}\n`;
  const duplicate = !tooLate && seen !== undefined && seen.d === d && seen.ids.includes(needle);
  const apply = !duplicate && !tooLate;
  const inOrder = last === null || ts >= last;
  const windows = spec.windows.map((w, i) => observeWindow(state.windows[i] as WindowState, w, spec.rings[i] as number, ts, amount, apply, inOrder, tooLate));
  const previousTimeMs = apply && inOrder ? last : null;
  if (apply) {
    if (inOrder) state.last = ts;
    if (seen && seen.d === d) seen.ids += `${transactionId}\n`;
    else state.dedupe.set(slotKey, { d, ids: needle });
  }
  return { observation: { duplicate, tooLate, previousTimeMs, windows }, changed: apply };
}

function sumBuckets(ring: number[], slots: number, from: number, to: number): WindowAggregate {
  const acc = { count: 0, sum: 0, sumSq: 0 };
  for (let j = from; j <= to; j++) {
    const k = (j % slots) * 4;
    if (ring[k] === j) {
      acc.count += ring[k + 1] as number;
      acc.sum += ring[k + 2] as number;
      acc.sumSq += ring[k + 3] as number;
    }
  }
  return acc;
}

function observeWindow(w: WindowState, spec: WindowSpec, slots: number, ts: number, amount: number, apply: boolean, inOrder: boolean, tooLate: boolean): WindowAggregate {
  const b = Math.floor(ts / spec.bucketMs);
  const n = spec.buckets;
  const ring = w.ring;
  if (!apply) {
    // too late (read, plus itself) or a duplicate (already in its bucket): not applied
    const read = sumBuckets(ring, slots, b - n + 1, b);
    if (tooLate) {
      read.count += 1;
      read.sum += amount;
      read.sumSq += amount * amount;
    }
    return read;
  }
  let result: WindowAggregate;
  if (inOrder) {
    const newStart = b - n + 1;
    if (w.start === null) {
      w.start = newStart;
    } else if (newStart > w.start) {
      if (newStart - w.start >= n) {
        w.count = w.sum = w.sumSq = 0;
      } else {
        // buckets [start, newStart) leave the running window
        const e = sumBuckets(ring, slots, w.start, newStart - 1);
        w.count -= e.count;
        w.sum -= e.sum;
        w.sumSq -= e.sumSq;
        if (w.count <= 0) w.count = w.sum = w.sumSq = 0;
      }
      w.start = newStart;
    }
    w.count += 1;
    w.sum += amount;
    w.sumSq += amount * amount;
    result = { count: w.count, sum: w.sum, sumSq: w.sumSq };
  } else {
    // in the allowed lateness: counted in its bucket, and in the running total when inside it
    if (b >= (w.start as number)) {
      w.count += 1;
      w.sum += amount;
      w.sumSq += amount * amount;
    }
    result = sumBuckets(ring, slots, b - n + 1, b);
    result.count += 1;
    result.sum += amount;
    result.sumSq += amount * amount;
  }
  const k = (b % slots) * 4;
  if (ring[k] === b) {
    ring[k + 1] = (ring[k + 1] as number) + 1;
    ring[k + 2] = (ring[k + 2] as number) + amount;
    ring[k + 3] = (ring[k + 3] as number) + amount * amount;
  } else {
    ring[k] = b;
    ring[k + 1] = 1;
    ring[k + 2] = amount;
    ring[k + 3] = amount * amount;
  }
  return result;
}
