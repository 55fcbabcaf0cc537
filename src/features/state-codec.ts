// The binary form of an entity's state in Redis: little-endian doubles, then UTF-8 ids.
//   version, last (NaN: none), window count; per window: start (NaN: none), count, sum,
//   sumSq, filled slots, then per slot: slot, bucket index, count, sum, sumSq;
//   dedupe slot count, per dedupe slot: slot, dedupe bucket, byte length of its ids;
//   then the ids of every dedupe slot, in that order.
// The version comes first: the compare-and-set script reads only those 8 bytes.
import type { EntityState, WindowState } from './entity-state.js';
import { emptyState } from './entity-state.js';
import type { StateSpec } from './windows.js';

export interface VersionedState {
  /** 0 when the entity had no state. */
  version: number;
  state: EntityState;
}

export function encodeState(state: EntityState, version: number): Buffer {
  let doubles = 4;
  for (const w of state.windows) {
    doubles += 5;
    for (let k = 0; k < w.ring.length; k += 4) if (w.ring[k] !== undefined) doubles += 5;
  }
  let idBytes = 0;
  const ids: { slot: number; d: number; text: string; bytes: number }[] = [];
  for (const [slot, x] of state.dedupe) {
    const bytes = Buffer.byteLength(x.ids, 'utf8');
    ids.push({ slot, d: x.d, text: x.ids, bytes });
    idBytes += bytes;
  }
  doubles += ids.length * 3;
  // One allocation: the doubles through a Float64Array (native order: this layout is
  // little-endian, as are the machines we run on), then the ids written into the same memory.
  const memory = new ArrayBuffer(doubles * 8 + idBytes);
  const f = new Float64Array(memory, 0, doubles);
  let at = 0;
  f[at++] = version;
  f[at++] = state.last ?? NaN;
  f[at++] = state.windows.length;
  for (const w of state.windows) {
    f[at++] = w.start ?? NaN;
    f[at++] = w.count;
    f[at++] = w.sum;
    f[at++] = w.sumSq;
    const filledAt = at++;
    let filled = 0;
    const ring = w.ring;
    for (let k = 0; k < ring.length; k += 4) {
      if (ring[k] === undefined) continue;
      filled++;
      f[at++] = k / 4;
      f[at++] = ring[k] as number;
      f[at++] = ring[k + 1] as number;
      f[at++] = ring[k + 2] as number;
      f[at++] = ring[k + 3] as number;
    }
    f[filledAt] = filled;
  }
  f[at++] = ids.length;
  for (const x of ids) {
    f[at++] = x.slot;
    f[at++] = x.d;
    f[at++] = x.bytes;
  }
  const buf = Buffer.from(memory);
  let offset = doubles * 8;
  for (const x of ids) offset += buf.write(x.text, offset, 'utf8');
  return buf;
}

/** Decodes a stored state; an absent value, or one written for other windows, is a fresh state. */
export function decodeState(buf: Buffer | null, spec: StateSpec): VersionedState {
  if (buf === null) return { version: 0, state: emptyState(spec) };
  let at = 0;
  const f64 = (): number => {
    const v = buf.readDoubleLE(at);
    at += 8;
    return v;
  };
  const version = f64();
  const last = f64();
  if (f64() !== spec.windows.length) return { version, state: emptyState(spec) };
  const windows: WindowState[] = spec.rings.map(() => {
    const start = f64();
    const w: WindowState = { start: Number.isNaN(start) ? null : start, count: f64(), sum: f64(), sumSq: f64(), ring: [] };
    for (let n = f64(); n > 0; n--) {
      const k = f64() * 4;
      for (let i = 0; i < 4; i++) w.ring[k + i] = f64();
    }
    return w;
  });
  const heads: { slot: number; d: number; len: number }[] = [];
  for (let n = f64(); n > 0; n--) heads.push({ slot: f64(), d: f64(), len: f64() });
  const dedupe = new Map<number, { d: number; ids: string }>();
  for (const h of heads) {
    dedupe.set(h.slot, { d: h.d, ids: buf.toString('utf8', at, at + h.len) });
    at += h.len;
  }
  return { version, state: { last: Number.isNaN(last) ? null : last, windows, dedupe } };
}
