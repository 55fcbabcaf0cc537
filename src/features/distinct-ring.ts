// Distinct counts over a window of time buckets, in typed arrays. The ring keeps each value
// seen in its buckets once, sorted by hash, with one bit per ring slot: the slots whose
// buckets saw it. A window's distinct count is the number of values with a bit among the
// window's slots: a scan of typed arrays, no hashing and no object per value. The running
// window's count is kept between reads and updated as values arrive, so a busy entity's
// in-order events cost a binary search each; it is counted again only when the running
// window moves to a new bucket.
//
// Each bucket keeps at most `limit` values, so an entity's cost is bounded whatever its
// history. Exact up to the limit: while fewer than `limit` values are in a window no bucket of
// it is full, so the count is exact; once one is full, the count is at least `limit`. Reading
// min(count, limit) is therefore min(true count, limit), in any arrival order.

/** Where the buckets are: the window's ring in the state's values (per slot, its bucket index first). */
export interface BucketRing {
  values: Float64Array;
  ringAt: number;
  slots: number;
  width: number;
}

export interface DistinctRing {
  /** 32-bit words of slot bits per value. */
  words: number;
  size: number;
  /** The values' hashes, ascending; `size` of them are in use. */
  hashes: Float64Array;
  /** Per value, `words` words: bit s is set when the bucket ring slot s holds saw the value. */
  bits: Uint32Array;
  /** Per ring slot, how many values its bucket saw. */
  perSlot: Int32Array;
  /** The running window's first bucket that `running` and `mask` were counted for; NaN: count again. */
  countedFor: number;
  /** Values seen in the running window's buckets, and the running window's slots. */
  running: number;
  mask: Uint32Array;
}

export function newDistinctRing(slots: number, capacity = 8): DistinctRing {
  const words = Math.ceil(slots / 32);
  return {
    words,
    size: 0,
    hashes: new Float64Array(capacity),
    bits: new Uint32Array(capacity * words),
    perSlot: new Int32Array(slots),
    countedFor: NaN,
    running: 0,
    mask: new Uint32Array(words),
  };
}

/** Empties a ring for reuse, keeping its memory. */
export function clearRing(ring: DistinctRing): void {
  ring.size = 0;
  ring.perSlot.fill(0);
  ring.countedFor = NaN;
  ring.running = 0;
}

/** The first index whose hash is not below `hash`. */
function lowerBound(ring: DistinctRing, hash: number): number {
  let lo = 0;
  let hi = ring.size;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ring.hashes[mid] as number) < hash) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Makes room for a value at index i. */
function insertAt(ring: DistinctRing, i: number, hash: number): void {
  const { words } = ring;
  if (ring.size === ring.hashes.length) {
    const hashes = new Float64Array(ring.hashes.length * 2);
    hashes.set(ring.hashes);
    const bits = new Uint32Array(hashes.length * words);
    bits.set(ring.bits);
    ring.hashes = hashes;
    ring.bits = bits;
  }
  ring.hashes.copyWithin(i + 1, i, ring.size);
  ring.bits.copyWithin((i + 1) * words, i * words, ring.size * words);
  ring.bits.fill(0, i * words, (i + 1) * words);
  ring.hashes[i] = hash;
  ring.size++;
}

function intersects(ring: DistinctRing, i: number, mask: Uint32Array): boolean {
  const at = i * ring.words;
  for (let w = 0; w < ring.words; w++) if (((ring.bits[at + w] as number) & (mask[w] as number)) !== 0) return true;
  return false;
}

function countIntersecting(ring: DistinctRing, mask: Uint32Array): number {
  let count = 0;
  for (let i = 0; i < ring.size; i++) if (intersects(ring, i, mask)) count++;
  return count;
}

/** Sets in `mask` the slots holding buckets [from, to]. */
function maskOf(at: BucketRing, from: number, to: number, mask: Uint32Array): Uint32Array {
  mask.fill(0);
  for (let j = Math.max(from, to - at.slots + 1); j <= to; j++) {
    const slot = j % at.slots;
    if (at.values[at.ringAt + slot * at.width] === j) mask[slot >>> 5] = (mask[slot >>> 5] as number) | (1 << (slot & 31));
  }
  return mask;
}

function ensureRunning(ring: DistinctRing, at: BucketRing, start: number, n: number): void {
  if (ring.countedFor === start) return;
  maskOf(at, start, start + n - 1, ring.mask);
  ring.running = countIntersecting(ring, ring.mask);
  ring.countedFor = start;
}

/**
 * Records a value in the bucket ring slot `slot` holds (bucket j), unless that bucket is full.
 * The running window starts at `start` and spans n buckets.
 */
export function addValue(ring: DistinctRing, slot: number, j: number, hash: number, limit: number, start: number, n: number): void {
  const i = lowerBound(ring, hash);
  const known = i < ring.size && ring.hashes[i] === hash;
  const w = slot >>> 5;
  const bit = 1 << (slot & 31);
  if (known && ((ring.bits[i * ring.words + w] as number) & bit) !== 0) return;
  if ((ring.perSlot[slot] as number) >= limit) return;
  const inRunning = ring.countedFor === start && j >= start && j < start + n;
  const wasCounted = known && inRunning && intersects(ring, i, ring.mask);
  if (!known) insertAt(ring, i, hash);
  ring.bits[i * ring.words + w] = (ring.bits[i * ring.words + w] as number) | bit;
  ring.perSlot[slot] = (ring.perSlot[slot] as number) + 1;
  if (inRunning && !wasCounted) ring.running++;
}

/** A slot starts over with a new bucket: its old bucket's values are forgotten. */
export function resetSlot(ring: DistinctRing, slot: number): void {
  // The running window's slots change with the slot's bucket: count again.
  ring.countedFor = NaN;
  if (ring.perSlot[slot] === 0) return;
  const { words } = ring;
  const w = slot >>> 5;
  const keep = ~(1 << (slot & 31));
  let kept = 0;
  for (let i = 0; i < ring.size; i++) {
    ring.bits[i * words + w] = (ring.bits[i * words + w] as number) & keep;
    let any = 0;
    for (let x = 0; x < words; x++) any |= ring.bits[i * words + x] as number;
    if (any === 0) continue;
    if (kept !== i) {
      ring.hashes[kept] = ring.hashes[i] as number;
      ring.bits.copyWithin(kept * words, i * words, (i + 1) * words);
    }
    kept++;
  }
  ring.size = kept;
  ring.perSlot[slot] = 0;
}

/** The slots of a window other than the running one (one synchronous read at a time). */
let scratchMask = new Uint32Array(4);

/**
 * Distinct values in buckets [from, to], plus `extra` (a hash, or NaN) when it is not among
 * them. The running window is [start, start + n - 1] (start NaN: the entity has none yet).
 */
export function distinctIn(ring: DistinctRing, at: BucketRing, start: number, n: number, from: number, to: number, extra: number): number {
  if (from === start && to === start + n - 1 && Number.isNaN(extra)) {
    ensureRunning(ring, at, start, n);
    return ring.running;
  }
  if (scratchMask.length < ring.words) scratchMask = new Uint32Array(ring.words);
  const mask = maskOf(at, from, to, scratchMask);
  let count = countIntersecting(ring, mask);
  if (!Number.isNaN(extra)) {
    const i = lowerBound(ring, extra);
    if (!(i < ring.size && ring.hashes[i] === extra && intersects(ring, i, mask))) count++;
  }
  return count;
}

/** Rebuilds the per-slot counts of a decoded ring from its bits. */
export function countPerSlot(ring: DistinctRing): void {
  ring.perSlot.fill(0);
  for (let k = 0; k < ring.size * ring.words; k++) {
    let x = ring.bits[k] as number;
    const base = (k % ring.words) * 32;
    while (x !== 0) {
      const low = x & -x;
      const slot = base + 31 - Math.clz32(low);
      ring.perSlot[slot] = (ring.perSlot[slot] as number) + 1;
      x ^= low;
    }
  }
}
