// One entity's window state and the algorithm that applies an event to it. Both stores run
// this same code: the memory store and the Redis store keep states encoded (state-codec.ts),
// decode them into this working form for a batch, apply the batch here and encode them back.
//
// Each window is a ring of time buckets plus a running total: bucket j lives in ring slot
// j mod ringSlots, so a newer bucket overwrites an expired one and the state stays bounded
// with no clean-up pass; in-order events update the running total in O(1).
//
// The working form is a dense region of a Float64Array (layout in windows.ts, StateSpec) in an
// arena reused from batch to batch, and results go into the batch's typed arrays: the hot
// path allocates no typed array per entity and no object per event.
import type { EntityEvent } from './store.js';
import { DUPLICATE, TOO_LATE, type Observations } from './store.js';
import type { StateSpec } from './windows.js';

export interface DedupeSlot {
  /** The dedupe bucket (of event time) the slot holds. */
  d: number;
  /** The 53-bit hashes (idHash) of the transaction ids applied in it. */
  hashes: number[];
  /** The same hashes as a set, built on the first lookup once the slot is large (see isApplied). */
  index?: Set<number>;
}

/** Below this many ids a linear scan beats building a set. */
const INDEX_FROM_IDS = 64;

/** Whether the slot already holds the id's hash: a scan while small, a set once large. */
function isApplied(slot: DedupeSlot, hash: number): boolean {
  if (slot.index === undefined && slot.hashes.length < INDEX_FROM_IDS) return slot.hashes.includes(hash);
  slot.index ??= new Set(slot.hashes);
  return slot.index.has(hash);
}

/**
 * A 53-bit hash of a transaction id (two 32-bit multiply-xorshift lanes, combined): the state
 * keeps 8 bytes per applied id instead of the id. Two distinct ids of one entity collide in
 * the same dedupe bucket with probability about n²/2^54 for n ids in it (below 10^-7 for
 * 50,000), which would make the later one count as a duplicate.
 */
export function idHash(id: string): number {
  let a = 0x9e3779b9;
  let b = 0x85ebca6b;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0xcc9e2d51);
    b = Math.imul(b ^ c, 0x1b873593);
  }
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b) ^ Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b) ^ Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  return (b & 0x1fffff) * 0x100000000 + (a >>> 0);
}

export interface EntityState {
  /** Event time of the latest in-order event; NaN before the first. */
  last: number;
  /**
   * From `base`, per window w, at base + spec.heads[w]: first bucket of the running window (NaN
   * before the first event), then its running count, sum and sum of squares; its ring at
   * base + spec.ringAt[w]: per slot, bucket index (NaN when empty), count, sum, sum of squares.
   */
  values: Float64Array;
  base: number;
  dedupe: Map<number, DedupeSlot>;
}

/**
 * Working memory for the states of one synchronous pass (decode → apply → encode), reused by
 * the next pass: states taken from it are valid until `reset`.
 */
export class StateArena {
  private memory = new Float64Array(1 << 16);
  private used = 0;

  reset(): void {
    this.used = 0;
  }

  /** A fresh, empty state. */
  take(spec: StateSpec): EntityState {
    if (this.used + spec.size > this.memory.length) {
      // States already taken keep the old memory; new ones go to a larger one.
      this.memory = new Float64Array(Math.max(this.memory.length * 2, spec.size));
      this.used = 0;
    }
    const base = this.used;
    this.used += spec.size;
    const values = this.memory;
    values.fill(NaN, base, base + spec.size);
    for (const h of spec.heads) values[base + h + 1] = values[base + h + 2] = values[base + h + 3] = 0;
    return { last: NaN, values, base, dedupe: new Map() };
  }
}

/**
 * Applies one event (unless it is a duplicate or too late), writes the state as of it into
 * `row` of `out` (its aggregates from `aggregateAt`), and tells whether the state changed.
 */
export function observeEvent(state: EntityState, spec: StateSpec, event: EntityEvent, out: Observations, row: number, aggregateAt: number): boolean {
  const { transactionId, eventTimeMs: ts, amount } = event;
  const readOnly = event.readOnly === true;
  const last = state.last;
  const hasLast = !Number.isNaN(last);
  const tooLate = !readOnly && hasLast && ts < last - spec.allowedLatenessMs;
  const d = Math.floor(ts / spec.dedupe.bucketMs);
  const slotKey = d % spec.dedupe.slots;
  const seen = state.dedupe.get(slotKey);
  const hash = readOnly ? 0 : idHash(transactionId);
  const duplicate = !readOnly && !tooLate && seen !== undefined && seen.d === d && isApplied(seen, hash);
  const apply = !duplicate && !tooLate && !readOnly;
  const inOrder = !hasLast || ts >= last;
  const windowCount = spec.windows.length;
  for (let w = 0; w < windowCount; w++) observeWindow(state.values, state.base, spec, w, ts, amount, apply, inOrder, tooLate, out.aggregates, aggregateAt + w * 3);
  out.previousTimeMs[row] = apply && inOrder ? last : NaN;
  out.flags[row] = (duplicate ? DUPLICATE : 0) | (tooLate ? TOO_LATE : 0);
  if (apply) {
    if (inOrder) state.last = ts;
    if (seen && seen.d === d) {
      seen.hashes.push(hash);
      seen.index?.add(hash);
    } else state.dedupe.set(slotKey, { d, hashes: [hash] });
  }
  return apply;
}

/** Adds buckets [from, to] of a ring into out[at..at+2]. */
function addBuckets(values: Float64Array, ringAt: number, slots: number, from: number, to: number, out: Float64Array, at: number): void {
  for (let j = from; j <= to; j++) {
    const k = ringAt + (j % slots) * 4;
    if (values[k] === j) {
      out[at] = (out[at] as number) + (values[k + 1] as number);
      out[at + 1] = (out[at + 1] as number) + (values[k + 2] as number);
      out[at + 2] = (out[at + 2] as number) + (values[k + 3] as number);
    }
  }
}

function observeWindow(values: Float64Array, base: number, spec: StateSpec, w: number, ts: number, amount: number, apply: boolean, inOrder: boolean, tooLate: boolean, out: Float64Array, at: number): void {
  const window = spec.windows[w] as StateSpec['windows'][number];
  const slots = spec.rings[w] as number;
  const ringAt = base + (spec.ringAt[w] as number);
  const h = base + (spec.heads[w] as number);
  const b = Math.floor(ts / window.bucketMs);
  const n = window.buckets;
  const sq = amount * amount;
  out[at] = out[at + 1] = out[at + 2] = 0;
  if (!apply) {
    // too late (read, plus itself) or a duplicate (already in its bucket): not applied
    addBuckets(values, ringAt, slots, b - n + 1, b, out, at);
    if (tooLate) {
      out[at] = (out[at]) + 1;
      out[at + 1] = (out[at + 1] as number) + amount;
      out[at + 2] = (out[at + 2] as number) + sq;
    }
    return;
  }
  if (inOrder) {
    const newStart = b - n + 1;
    const start = values[h] as number;
    if (Number.isNaN(start)) {
      values[h] = newStart;
    } else if (newStart > start) {
      if (newStart - start >= n) {
        values[h + 1] = values[h + 2] = values[h + 3] = 0;
      } else {
        // buckets [start, newStart) leave the running window
        addBuckets(values, ringAt, slots, start, newStart - 1, out, at);
        values[h + 1] = (values[h + 1] as number) - (out[at]);
        values[h + 2] = (values[h + 2] as number) - (out[at + 1] as number);
        values[h + 3] = (values[h + 3] as number) - (out[at + 2] as number);
        if ((values[h + 1] as number) <= 0) values[h + 1] = values[h + 2] = values[h + 3] = 0;
      }
      values[h] = newStart;
    }
    values[h + 1] = (values[h + 1] as number) + 1;
    values[h + 2] = (values[h + 2] as number) + amount;
    values[h + 3] = (values[h + 3] as number) + sq;
    out[at] = values[h + 1] as number;
    out[at + 1] = values[h + 2] as number;
    out[at + 2] = values[h + 3] as number;
  } else {
    // in the allowed lateness: counted in its bucket, and in the running total when inside it
    if (b >= (values[h] as number)) {
      values[h + 1] = (values[h + 1] as number) + 1;
      values[h + 2] = (values[h + 2] as number) + amount;
      values[h + 3] = (values[h + 3] as number) + sq;
    }
    addBuckets(values, ringAt, slots, b - n + 1, b, out, at);
    out[at] = (out[at]) + 1;
    out[at + 1] = (out[at + 1] as number) + amount;
    out[at + 2] = (out[at + 2] as number) + sq;
  }
  const k = ringAt + (b % slots) * 4;
  if (values[k] === b) {
    values[k + 1] = (values[k + 1] as number) + 1;
    values[k + 2] = (values[k + 2] as number) + amount;
    values[k + 3] = (values[k + 3] as number) + sq;
  } else {
    values[k] = b;
    values[k + 1] = 1;
    values[k + 2] = amount;
    values[k + 3] = sq;
  }
}
