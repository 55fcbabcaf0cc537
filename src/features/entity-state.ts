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
import { ROW, type StateSpec } from './windows.js';
import { idHash } from './id-hash.js';
import { addValue, clearRing, distinctIn, newDistinctRing, resetSlot, type BucketRing, type DistinctRing } from './distinct-ring.js';

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

export interface EntityState {
  /** Event time of the latest in-order event; NaN before the first. */
  last: number;
  /**
   * From `base`, per window w, at base + spec.heads[w]: first bucket of the running window (NaN
   * before the first event), then its running count, sum and sum of squares; its ring at
   * base + spec.ringAt[w]: per slot (spec.slotWidth[w] values), bucket index (NaN when empty),
   * count, sum, sum of squares, then the smallest and largest amount when the window keeps them.
   */
  values: Float64Array;
  base: number;
  dedupe: Map<number, DedupeSlot>;
  /** Per distinct field of each window, from spec.distinctAt[w]: the values seen per bucket. */
  distinct: DistinctRing[];
}

/** The distinct rings of a state whose windows count no distinct values (never written to). */
const NO_RINGS: DistinctRing[] = [];

/**
 * Working memory for the states of one synchronous pass (decode → apply → encode), reused by
 * the next pass: states taken from it are valid until `reset`.
 */
export class StateArena {
  private memory = new Float64Array(1 << 16);
  private used = 0;
  /** Distinct rings by slot count, reused like the memory (their typed arrays keep their size). */
  private readonly rings = new Map<number, { free: DistinctRing[]; used: number }>();

  reset(): void {
    this.used = 0;
    for (const pool of this.rings.values()) pool.used = 0;
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
    clearValues(values, base, spec);
    return { last: NaN, values, base, dedupe: new Map(), distinct: spec.distinctCount === 0 ? NO_RINGS : this.distinctRings(spec) };
  }

  private distinctRings(spec: StateSpec): DistinctRing[] {
    const rings: DistinctRing[] = [];
    spec.windows.forEach((w, i) => {
      for (let d = 0; d < (w.distinct?.length ?? 0); d++) rings.push(this.ring(spec.rings[i] as number));
    });
    return rings;
  }

  private ring(slots: number): DistinctRing {
    let pool = this.rings.get(slots);
    if (pool === undefined) this.rings.set(slots, (pool = { free: [], used: 0 }));
    const ring = pool.free[pool.used];
    pool.used++;
    if (ring === undefined) {
      const fresh = newDistinctRing(slots);
      pool.free.push(fresh);
      return fresh;
    }
    clearRing(ring);
    return ring;
  }
}

/** An empty state's values at `base`: no bucket, running totals 0. */
function clearValues(values: Float64Array, base: number, spec: StateSpec): void {
  values.fill(NaN, base, base + spec.size);
  for (const h of spec.heads) values[base + h + 1] = values[base + h + 2] = values[base + h + 3] = 0;
}

/** A fresh, empty state at `base` of `values` (the caller's to keep beyond one pass: the offline store's live states). */
export function newEntityState(spec: StateSpec, values: Float64Array = new Float64Array(spec.size), base = 0): EntityState {
  clearValues(values, base, spec);
  const distinct: DistinctRing[] = [];
  spec.windows.forEach((w, i) => {
    for (let d = 0; d < (w.distinct?.length ?? 0); d++) distinct.push(newDistinctRing(spec.rings[i] as number));
  });
  return { last: NaN, values, base, dedupe: new Map(), distinct: spec.distinctCount === 0 ? NO_RINGS : distinct };
}

/** The event being applied, shared by its windows (one synchronous event at a time). */
const now = { ts: 0, amount: 0, sq: 0, apply: false, inOrder: false, tooLate: false, mask: 0, hashes: undefined as Float64Array | undefined };
/** The window ring being read or written. */
const ring: BucketRing = { values: new Float64Array(0), ringAt: 0, slots: 1, width: 4 };

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
  now.ts = ts;
  now.amount = amount;
  now.sq = amount * amount;
  now.apply = apply;
  now.inOrder = inOrder;
  now.tooLate = tooLate;
  now.mask = event.mask ?? 0;
  now.hashes = event.distinct;
  const offsets = spec.out.offsets;
  for (let w = 0; w < spec.windows.length; w++) observeWindow(state, spec, w, out.aggregates, aggregateAt + (offsets[w] as number));
  // A read (a label window's reader, an event past the clock's bound) sees the previous event as an applied one would.
  out.previousTimeMs[row] = (apply || readOnly) && inOrder ? last : NaN;
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

function pointAt(state: EntityState, spec: StateSpec, w: number): BucketRing {
  ring.values = state.values;
  ring.ringAt = state.base + (spec.ringAt[w] as number);
  ring.slots = spec.rings[w] as number;
  ring.width = spec.slotWidth[w] as number;
  return ring;
}

/**
 * One window for the current event: an applied in-order event moves the running window to end
 * at its bucket; an applied event that passes the window's filter is added to its bucket (and
 * to the running total when inside it); then the window as of the event is written to `out`.
 */
function observeWindow(state: EntityState, spec: StateSpec, w: number, out: Float64Array, at: number): void {
  const values = state.values;
  const window = spec.windows[w] as StateSpec['windows'][number];
  const h = state.base + (spec.heads[w] as number);
  const b = Math.floor(now.ts / window.bucketMs);
  const n = window.buckets;
  const matches = window.filter === undefined || (now.mask & window.filter.bit) !== 0;
  const add = now.apply && matches;
  const running = now.apply && now.inOrder;
  const buckets = pointAt(state, spec, w);
  if (running) advanceWindow(state, spec, w, buckets, b - n + 1);
  if (add) {
    if (running || b >= (values[h] as number)) {
      values[h + 1] = (values[h + 1] as number) + 1;
      values[h + 2] = (values[h + 2] as number) + now.amount;
      values[h + 3] = (values[h + 3] as number) + now.sq;
    }
    recordInBucket(state, spec, w, buckets, b);
  }
  // Too late: read as of its time, itself included, though it is not applied.
  const self = now.tooLate && matches;
  if (running) {
    out[at + ROW.count] = values[h + 1] as number;
    out[at + ROW.sum] = values[h + 2] as number;
    out[at + ROW.sumSq] = values[h + 3] as number;
  } else {
    sumBuckets(buckets, b - n + 1, b, out, at);
    if (self) {
      out[at + ROW.count] = (out[at + ROW.count] as number) + 1;
      out[at + ROW.sum] = (out[at + ROW.sum] as number) + now.amount;
      out[at + ROW.sumSq] = (out[at + ROW.sumSq] as number) + now.sq;
    }
  }
  let k = at + ROW.optional;
  if (window.extremes === true) {
    extremesInto(buckets, b - n + 1, b, self, out, at);
    k += 2;
  }
  const distinct = window.distinct;
  if (distinct === undefined) return;
  for (let d = 0; d < distinct.length; d++) {
    const field = distinct[d] as NonNullable<typeof distinct>[number];
    const hash = now.hashes?.[field.field] ?? NaN;
    const count = distinctIn(state.distinct[(spec.distinctAt[w] as number) + d] as DistinctRing, buckets, values[h] as number, n, b - n + 1, b, self ? hash : NaN);
    out[k++] = Math.min(count, field.limit);
  }
}

/** Moves the running window's first bucket forward to `newStart`: the buckets before it leave. */
function advanceWindow(state: EntityState, spec: StateSpec, w: number, at: BucketRing, newStart: number): void {
  const values = state.values;
  const h = state.base + (spec.heads[w] as number);
  const start = values[h] as number;
  if (Number.isNaN(start)) {
    values[h] = newStart;
    return;
  }
  if (newStart <= start) return;
  if (newStart - start >= (spec.windows[w] as StateSpec['windows'][number]).buckets) {
    values[h + 1] = values[h + 2] = values[h + 3] = 0;
  } else {
    let count = 0;
    let sum = 0;
    let sumSq = 0;
    for (let j = start; j < newStart; j++) {
      const k = at.ringAt + (j % at.slots) * at.width;
      if (values[k] !== j) continue;
      count += values[k + 1] as number;
      sum += values[k + 2] as number;
      sumSq += values[k + 3] as number;
    }
    values[h + 1] = (values[h + 1] as number) - count;
    values[h + 2] = (values[h + 2] as number) - sum;
    values[h + 3] = (values[h + 3] as number) - sumSq;
    if ((values[h + 1] as number) <= 0) values[h + 1] = values[h + 2] = values[h + 3] = 0;
  }
  values[h] = newStart;
}

/** Adds the current event to bucket b of window w: its count, sums, extremes and distinct values. */
function recordInBucket(state: EntityState, spec: StateSpec, w: number, at: BucketRing, b: number): void {
  const values = state.values;
  const window = spec.windows[w] as StateSpec['windows'][number];
  const slot = b % at.slots;
  const k = at.ringAt + slot * at.width;
  const amount = now.amount;
  const distinct = window.distinct;
  const firstRing = spec.distinctAt[w] as number;
  const start = values[state.base + (spec.heads[w] as number)] as number;
  if (values[k] === b) {
    values[k + 1] = (values[k + 1] as number) + 1;
    values[k + 2] = (values[k + 2] as number) + amount;
    values[k + 3] = (values[k + 3] as number) + now.sq;
    if (window.extremes === true) {
      values[k + 4] = Math.min(values[k + 4] as number, amount);
      values[k + 5] = Math.max(values[k + 5] as number, amount);
    }
  } else {
    // The slot held an expired bucket (or none): it starts over.
    values[k] = b;
    values[k + 1] = 1;
    values[k + 2] = amount;
    values[k + 3] = now.sq;
    if (window.extremes === true) values[k + 4] = values[k + 5] = amount;
    if (distinct !== undefined) for (let d = 0; d < distinct.length; d++) resetSlot(state.distinct[firstRing + d] as DistinctRing, slot);
  }
  if (distinct === undefined) return;
  for (let d = 0; d < distinct.length; d++) {
    const field = distinct[d] as NonNullable<typeof distinct>[number];
    const hash = now.hashes?.[field.field] ?? NaN;
    if (!Number.isNaN(hash)) addValue(state.distinct[firstRing + d] as DistinctRing, slot, b, hash, field.limit, start, window.buckets);
  }
}

/** Buckets [from, to]' count, sum and sum of squares into the row of the series at `o` (see ROW). */
function sumBuckets(at: BucketRing, from: number, to: number, out: Float64Array, o: number): void {
  const values = at.values;
  let count = 0;
  let sum = 0;
  let sumSq = 0;
  for (let j = from; j <= to; j++) {
    const k = at.ringAt + (j % at.slots) * at.width;
    if (values[k] === j) {
      count += values[k + 1] as number;
      sum += values[k + 2] as number;
      sumSq += values[k + 3] as number;
    }
  }
  out[o + ROW.count] = count;
  out[o + ROW.sum] = sum;
  out[o + ROW.sumSq] = sumSq;
}

/** The smallest and largest amount in buckets [from, to] (and the current event's, with `self`) into the row of the series at `o`; NaN when none. */
function extremesInto(at: BucketRing, from: number, to: number, self: boolean, out: Float64Array, o: number): void {
  const values = at.values;
  let min = self ? now.amount : Infinity;
  let max = self ? now.amount : -Infinity;
  for (let j = from; j <= to; j++) {
    const k = at.ringAt + (j % at.slots) * at.width;
    if (values[k] === j) {
      min = Math.min(min, values[k + 4] as number);
      max = Math.max(max, values[k + 5] as number);
    }
  }
  out[o + ROW.min] = min === Infinity ? NaN : min;
  out[o + ROW.max] = max === -Infinity ? NaN : max;
}
