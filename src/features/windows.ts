// Window maths: each window is a ring of time buckets; the running total of the
// window is kept as buckets enter and leave, so reading a window costs O(1).

export interface WindowSpec {
  /** Name used in feature names, e.g. `1h`. */
  name: string;
  /** Bucket width in milliseconds. */
  bucketMs: number;
  /** Number of buckets the window spans (the bucket holding the event included). */
  buckets: number;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `10m`, `1h`, `7d` into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text);
  if (!match) throw new Error(`not a duration: "${text}" (expected e.g. 10m, 1h, 7d)`);
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/**
 * Chooses the bucket width for a window: about 10-30 buckets, aligned to whole
 * minutes/hours/days, so the window's trailing edge is precise to one bucket.
 */
export function windowSpec(name: string): WindowSpec {
  const ms = parseDuration(name);
  const widths = [60_000, 300_000, 600_000, 3_600_000, 21_600_000, 86_400_000];
  // A window no width divides into 30 buckets or fewer takes the widest width that divides it.
  const bucketMs = widths.find((w) => ms % w === 0 && ms / w <= 30) ?? widths.filter((w) => ms % w === 0).at(-1) ?? 86_400_000;
  return { name, bucketMs, buckets: Math.max(1, Math.ceil(ms / bucketMs)) };
}

export function bucketOf(eventTimeMs: number, spec: WindowSpec): number {
  return Math.floor(eventTimeMs / spec.bucketMs);
}

/**
 * Ring slots a window keeps per entity: its own buckets plus those an event inside the
 * allowed lateness may still read or write. Bucket j lives in slot j mod ringSlots.
 */
export function ringSlots(spec: WindowSpec, allowedLatenessMs: number): number {
  return spec.buckets + Math.ceil(allowedLatenessMs / spec.bucketMs) + 2;
}

export interface DedupeSpec {
  bucketMs: number;
  slots: number;
}

/**
 * Applied transaction ids are remembered per bucket of event time, long enough to cover
 * the allowed lateness: a redelivered event (same id, same time) falls in the same bucket.
 */
export function dedupeSpec(allowedLatenessMs: number): DedupeSpec {
  const bucketMs = Math.max(60_000, Math.ceil(allowedLatenessMs / 4));
  return { bucketMs, slots: Math.ceil(allowedLatenessMs / bucketMs) + 2 };
}

/** Everything the entity-state algorithm needs to know about an entity's windows. */
export interface StateSpec {
  windows: readonly WindowSpec[];
  /** Ring slots per window. */
  rings: readonly number[];
  /** Where each window's head (start, count, sum, sumSq) is in the state's values. */
  heads: readonly number[];
  /** Where each window's ring (4 values per slot) starts in the state's values. */
  ringAt: readonly number[];
  /** Length of the state's values. */
  size: number;
  dedupe: DedupeSpec;
  allowedLatenessMs: number;
}

const specCache = new WeakMap<readonly WindowSpec[], Map<number, StateSpec>>();

/** The StateSpec of a set of windows, memoised per set and lateness. */
export function stateSpec(windows: readonly WindowSpec[], allowedLatenessMs: number): StateSpec {
  let byLateness = specCache.get(windows);
  if (!byLateness) specCache.set(windows, (byLateness = new Map<number, StateSpec>()));
  let spec = byLateness.get(allowedLatenessMs);
  if (!spec) {
    const rings = windows.map((w) => ringSlots(w, allowedLatenessMs));
    const heads: number[] = [];
    const ringAt: number[] = [];
    let size = 0;
    rings.forEach((slots) => {
      heads.push(size);
      ringAt.push(size + 4);
      size += 4 + slots * 4;
    });
    spec = { windows, rings, heads, ringAt, size, dedupe: dedupeSpec(allowedLatenessMs), allowedLatenessMs };
    byLateness.set(allowedLatenessMs, spec);
  }
  return spec;
}
