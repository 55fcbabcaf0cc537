// Compares the entity states two runs left in Redis, decoded with the project's own codec:
// per window its running total and its ring of buckets, the latest event time, the applied
// transaction ids and the distinct values; not the random version. Counts, bucket indexes,
// times, ids, extremes and distinct values must be equal. Sums and sums of squares may differ
// in their last bits, because floating-point addition depends on the order in which events
// were added (it differs between runs), so they are compared with a relative tolerance.
// Pure: it sees the values, not Redis.
import type { FeatureSet } from '../../src/features/definitions.js';
import { StateArena, type EntityState } from '../../src/features/entity-state.js';
import { decodeState } from '../../src/features/state-codec.js';
import { stateSpec, type StateSpec } from '../../src/features/windows.js';

/** Relative tolerance for sums; far below a cent on any amount the contract allows, far above rounding. */
export const SUM_RELATIVE_TOLERANCE = 1e-9;

export interface StateDiff {
  /** Entity keys in either run. */
  entities: number;
  /** Entity keys whose states differ, or which only one run has (must be 0). */
  differing: number;
  onlyInFaultRun: number;
  onlyInCleanRun: number;
  /** Keys under the prefix that are no entity state (per-partition journals, owners, …): not compared. */
  ignored: number;
  examples: string[];
}

/** `{<entity>:<id>}:<8-hex layout>`, the key after `<prefix>:`. */
const ENTITY_KEY = /^\{([^:{}]+):(.*)\}:([0-9a-f]{8})$/;

/** `fault` and `clean`: each run's values by key without its prefix (`{account:acct-1}:0a1b2c3d`). */
export function compareStates(fault: ReadonlyMap<string, Buffer>, clean: ReadonlyMap<string, Buffer>, features: FeatureSet, allowedLatenessMs: number): StateDiff {
  const specs = new Map(features.entities.map((e) => [e.entity, stateSpec(e.windows, allowedLatenessMs)]));
  const diff: StateDiff = { entities: 0, differing: 0, onlyInFaultRun: 0, onlyInCleanRun: 0, ignored: 0, examples: [] };
  const note = (text: string): void => void (diff.examples.length < 12 && diff.examples.push(text));
  const arena = new StateArena();
  for (const key of new Set([...fault.keys(), ...clean.keys()])) {
    const spec = specs.get(ENTITY_KEY.exec(key)?.[1] ?? '');
    if (spec === undefined) {
      diff.ignored++;
      continue;
    }
    diff.entities++;
    const a = fault.get(key);
    const b = clean.get(key);
    if (a === undefined || b === undefined) {
      diff.differing++;
      if (a === undefined) diff.onlyInCleanRun++;
      else diff.onlyInFaultRun++;
      note(`${key}: only in the ${a === undefined ? 'clean' : 'fault'} run`);
      continue;
    }
    arena.reset();
    const problems = stateDifferences(decodeState(a, spec, arena).state, decodeState(b, spec, arena).state, spec);
    if (problems.length > 0) {
      diff.differing++;
      note(`${key}: ${problems.slice(0, 3).join('; ')}`);
    }
  }
  return diff;
}

/** Where two states of the same layout differ (the fault run's value first). */
export function stateDifferences(a: EntityState, b: EntityState, spec: StateSpec): string[] {
  const out: string[] = [];
  if (!same(a.last, b.last)) out.push(`last event ${a.last} vs ${b.last}`);
  spec.windows.forEach((w, i) => out.push(...windowDifferences(a, b, spec, i).map((d) => `${w.name}${w.filter ? '?' : ''} ${d}`)));
  out.push(...dedupeDifferences(a, b));
  a.distinct.forEach((ring, r) => {
    const other = b.distinct[r];
    const words = ring.words;
    const equal = other !== undefined && ring.size === other.size && ring.hashes.subarray(0, ring.size).every((h, k) => h === other.hashes[k]) && ring.bits.subarray(0, ring.size * words).every((x, k) => x === other.bits[k]);
    if (!equal) out.push(`distinct ring ${r}: ${ring.size} vs ${other?.size ?? 0} values, or other buckets`);
  });
  return out;
}

const FIELD = ['bucket', 'count', 'sum', 'sumSq', 'min', 'max'];
/** Slot fields compared with the tolerance: sum and sum of squares. */
const APPROX = new Set([2, 3]);

function windowDifferences(a: EntityState, b: EntityState, spec: StateSpec, w: number): string[] {
  const out: string[] = [];
  const width = spec.slotWidth[w] as number;
  const slots = spec.rings[w] as number;
  const ringAt = spec.ringAt[w] as number;
  const head = spec.heads[w] as number;
  // The head (start, count, sum, sumSq) lines up with a slot (bucket, count, sum, sumSq).
  // The scale of each summed field: what its running total was built from, in both runs.
  const scale = [0, 0, 0, 0];
  for (const s of [a, b]) {
    for (const f of [2, 3]) {
      scale[f] = (scale[f] as number) + Math.abs(s.values[s.base + head + f] as number);
      for (let k = 0; k < slots; k++) {
        const v = s.values[s.base + ringAt + k * width + f] as number;
        if (!Number.isNaN(v)) scale[f] = (scale[f]) + Math.abs(v);
      }
    }
  }
  // The running window: start, count, sum, sum of squares.
  for (let f = 0; f < 4; f++) {
    const x = a.values[a.base + head + f] as number;
    const y = b.values[b.base + head + f] as number;
    const ok = APPROX.has(f) ? close(x, y, scale[f] as number) : same(x, y);
    if (!ok) out.push(`running ${['start', 'count', 'sum', 'sumSq'][f]} ${x} vs ${y}`);
  }
  for (let k = 0; k < slots; k++) {
    for (let f = 0; f < width; f++) {
      const x = a.values[a.base + ringAt + k * width + f] as number;
      const y = b.values[b.base + ringAt + k * width + f] as number;
      const ok = APPROX.has(f) ? close(x, y, scale[f] as number) : same(x, y);
      if (!ok) out.push(`slot ${k} ${FIELD[f]} ${x} vs ${y}`);
    }
  }
  return out;
}

function dedupeDifferences(a: EntityState, b: EntityState): string[] {
  const out: string[] = [];
  for (const slot of new Set([...a.dedupe.keys(), ...b.dedupe.keys()])) {
    const x = a.dedupe.get(slot);
    const y = b.dedupe.get(slot);
    const ids = (s: typeof x): string => (s === undefined ? '' : [...s.hashes].sort((p, q) => p - q).join(','));
    if (x?.d !== y?.d || ids(x) !== ids(y)) out.push(`applied ids of dedupe slot ${slot}: ${x?.hashes.length ?? 0} vs ${y?.hashes.length ?? 0}`);
  }
  return out;
}

/** Equal, NaN (an empty slot, no event yet) equal to NaN. */
function same(x: number, y: number): boolean {
  return x === y || (Number.isNaN(x) && Number.isNaN(y));
}

function close(x: number, y: number, scale: number): boolean {
  if (same(x, y)) return true;
  return Math.abs(x - y) <= SUM_RELATIVE_TOLERANCE * Math.max(Math.abs(x), Math.abs(y), scale);
}
