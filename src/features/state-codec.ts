// The binary form of an entity's state in Redis: little-endian doubles only.
//   version, last (NaN: none), window count; per window: start (NaN: none), count, sum,
//   sumSq, filled slots, then per slot: slot, bucket index, count, sum, sumSq (then min and
//   max when the window keeps extremes); dedupe slot count, per dedupe slot: slot, dedupe
//   bucket, id count, then its id hashes; only when the windows count distinct values, per
//   distinct ring: value count, the value hashes (ascending), then per value its slot bits as
//   32-bit words (distinct-ring.ts), padded to a whole double.
// Windows without extremes or distinct values write what they wrote before either existed.
// The version comes first: the compare-and-set script reads only those 8 bytes.
import { countPerSlot } from './distinct-ring.js';
import type { EntityState, StateArena } from './entity-state.js';
import type { StateSpec } from './windows.js';

/** Part of each Redis key: a new format starts fresh keys instead of misreading old ones. */
export const STATE_FORMAT = 'h53';

export interface VersionedState {
  /** 0 when the entity had no state. */
  version: number;
  state: EntityState;
}

/** Bytes `writeState` writes for this state. */
export function encodedLength(state: EntityState, spec: StateSpec): number {
  const values = state.values;
  let doubles = 4 + state.dedupe.size * 3;
  for (let w = 0; w < spec.rings.length; w++) {
    doubles += 5;
    const width = spec.slotWidth[w] as number;
    const ringAt = state.base + (spec.ringAt[w] as number);
    const end = ringAt + (spec.rings[w] as number) * width;
    for (let k = ringAt; k < end; k += width) if (!Number.isNaN(values[k])) doubles += width + 1;
  }
  for (const x of state.dedupe.values()) doubles += x.hashes.length;
  return (doubles + distinctDoubles(state, spec)) * 8;
}

/** Doubles the distinct rings take: per ring its value count, hashes, and slot bits (two words a double). */
function distinctDoubles(state: EntityState, spec: StateSpec): number {
  if (spec.distinctCount === 0) return 0;
  let doubles = 0;
  for (const ring of state.distinct) doubles += 1 + ring.size + Math.ceil((ring.size * ring.words) / 2);
  return doubles;
}

/**
 * Doubles are assembled and read in this aligned scratch memory and moved with one copy:
 * Buffer's per-value readDoubleLE/writeDoubleLE cost about 20 ns each. Safe to share: every
 * use is synchronous.
 */
let scratch = new Float64Array(4096);
let scratchBytes = new Uint8Array(scratch.buffer);
/** The same memory as 32-bit words, for the distinct rings' slot bits (never read as doubles). */
let scratchWords = new Uint32Array(scratch.buffer);

function scratchFor(doubles: number): Float64Array {
  if (scratch.length < doubles) {
    scratch = new Float64Array(Math.max(doubles, scratch.length * 2));
    scratchBytes = new Uint8Array(scratch.buffer);
    scratchWords = new Uint32Array(scratch.buffer);
  }
  return scratch;
}

/** Writes the state with its version at `offset` of `target`; returns the offset after it. */
export function writeState(state: EntityState, version: number, spec: StateSpec, target: Buffer, offset: number): number {
  const values = state.values;
  let most = 4 + state.dedupe.size * 3 + distinctDoubles(state, spec);
  spec.rings.forEach((slots, w) => (most += 5 + slots * ((spec.slotWidth[w] as number) + 1)));
  for (const x of state.dedupe.values()) most += x.hashes.length;
  const f = scratchFor(most);
  let at = 0;
  f[at++] = version;
  f[at++] = state.last;
  f[at++] = spec.rings.length;
  for (let w = 0; w < spec.rings.length; w++) {
    const h = state.base + (spec.heads[w] as number);
    f[at++] = values[h] as number;
    f[at++] = values[h + 1] as number;
    f[at++] = values[h + 2] as number;
    f[at++] = values[h + 3] as number;
    const filledAt = at++;
    let filled = 0;
    const ringAt = state.base + (spec.ringAt[w] as number);
    const slots = spec.rings[w] as number;
    const width = spec.slotWidth[w] as number;
    for (let slot = 0; slot < slots; slot++) {
      const k = ringAt + slot * width;
      if (Number.isNaN(values[k])) continue;
      filled++;
      f[at++] = slot;
      for (let v = 0; v < width; v++) f[at++] = values[k + v] as number;
    }
    f[filledAt] = filled;
  }
  f[at++] = state.dedupe.size;
  for (const [slot, x] of state.dedupe) {
    f[at++] = slot;
    f[at++] = x.d;
    f[at++] = x.hashes.length;
    for (const h of x.hashes) f[at++] = h;
  }
  if (spec.distinctCount > 0) at = writeDistinct(state, f, at);
  target.set(scratchBytes.subarray(0, at * 8), offset);
  return offset + at * 8;
}

function writeDistinct(state: EntityState, f: Float64Array, at: number): number {
  for (const ring of state.distinct) {
    f[at++] = ring.size;
    f.set(ring.hashes.subarray(0, ring.size), at);
    at += ring.size;
    const words = ring.size * ring.words;
    scratchWords.set(ring.bits.subarray(0, words), at * 2);
    if (words % 2 === 1) scratchWords[at * 2 + words] = 0;
    at += Math.ceil(words / 2);
  }
  return at;
}

export function encodeState(state: EntityState, version: number, spec: StateSpec): Buffer {
  const buf = Buffer.allocUnsafe(encodedLength(state, spec));
  writeState(state, version, spec, buf, 0);
  return buf;
}

/**
 * Decodes a stored state into a fresh state from `arena`; an absent value, or one written for
 * other windows, is an empty state.
 */
export function decodeState(buf: Buffer | null, spec: StateSpec, arena: StateArena): VersionedState {
  const state = arena.take(spec);
  if (buf === null) return { version: 0, state };
  // The whole value into aligned memory, where the doubles are read.
  const f = scratchFor(buf.length >> 3);
  scratchBytes.set(buf.subarray(0, (buf.length >> 3) * 8));
  let at = 0;
  const version = f[at++] as number;
  const last = f[at++] as number;
  if (f[at++] !== spec.rings.length) return { version, state };
  state.last = last;
  const values = state.values;
  for (let w = 0; w < spec.rings.length; w++) {
    const h = state.base + (spec.heads[w] as number);
    values[h] = f[at++] as number;
    values[h + 1] = f[at++] as number;
    values[h + 2] = f[at++] as number;
    values[h + 3] = f[at++] as number;
    const ringAt = state.base + (spec.ringAt[w] as number);
    const width = spec.slotWidth[w] as number;
    for (let n = f[at++] as number; n > 0; n--) {
      const k = ringAt + (f[at++] as number) * width;
      for (let v = 0; v < width; v++) values[k + v] = f[at++] as number;
    }
  }
  for (let n = f[at++] as number; n > 0; n--) {
    const slot = f[at++] as number;
    const d = f[at++] as number;
    const count = f[at++] as number;
    const hashes = new Array<number>(count);
    for (let i = 0; i < count; i++) hashes[i] = f[at++] as number;
    state.dedupe.set(slot, { d, hashes });
  }
  if (spec.distinctCount > 0) readDistinct(state, f, at);
  return { version, state };
}

function readDistinct(state: EntityState, f: Float64Array, at: number): void {
  for (const ring of state.distinct) {
    const size = f[at++] as number;
    if (size > ring.hashes.length) {
      ring.hashes = new Float64Array(size);
      ring.bits = new Uint32Array(size * ring.words);
    }
    ring.hashes.set(f.subarray(at, at + size));
    at += size;
    const words = size * ring.words;
    ring.bits.set(scratchWords.subarray(at * 2, at * 2 + words));
    at += Math.ceil(words / 2);
    ring.size = size;
    countPerSlot(ring);
  }
}
