// Window maths: each window is a ring of time buckets; the running total of the
// window is kept as buckets enter and leave, so reading a window costs O(1).

/**
 * One series an entity's state keeps: a window of time buckets over the entity's payments
 * (those that pass the filter, when it has one), with per bucket their count, sum and sum of
 * squares, optionally their smallest and largest amount, and the distinct values of fields.
 */
export interface WindowSpec {
  /** Name used in feature names, e.g. `1h`. */
  name: string;
  /** Bucket width in milliseconds. */
  bucketMs: number;
  /** Number of buckets the window spans (the bucket holding the event included). */
  buckets: number;
  /** Only payments that pass this filter count (its bit in EntityEvent.mask, and its CEL text). */
  filter?: SeriesFilter;
  /** Keep each bucket's smallest and largest amount (for min and max). */
  extremes?: boolean;
  /** Distinct values of these fields, kept per bucket (for distinct counts). */
  distinct?: DistinctSpec[];
}

export interface SeriesFilter {
  bit: number;
  expression: string;
}

export interface DistinctSpec {
  /** Index of the field's value hash in EntityEvent.distinct. */
  field: number;
  /** The event field, for the key layout and messages. */
  name: string;
  /** At most this many values per bucket: the count reads min(true count, limit), exactly. */
  limit: number;
}

/**
 * Where a series' values are in an event's row of observations, from the series' start: count,
 * sum and sum of squares, then (from `optional`) min and max when the series keeps extremes,
 * then one distinct count per distinct field.
 */
export const ROW = { count: 0, sum: 1, sumSq: 2, optional: 3, min: 3, max: 4 } as const;

/** Doubles a series writes per event into the observations (see ROW). */
export function seriesWidth(w: WindowSpec): number {
  return ROW.optional + (w.extremes === true ? 2 : 0) + (w.distinct?.length ?? 0);
}

export interface RowLayout {
  /** Per series, where its values start in an event's row. */
  offsets: readonly number[];
  /** Doubles per event. */
  width: number;
}

const rowLayouts = new WeakMap<readonly WindowSpec[], RowLayout>();

/** Where each series' results are in one event's row of observations, memoised per set of windows. */
export function rowLayout(windows: readonly WindowSpec[]): RowLayout {
  let layout = rowLayouts.get(windows);
  if (layout === undefined) {
    const offsets: number[] = [];
    let width = 0;
    for (const w of windows) {
      offsets.push(width);
      width += seriesWidth(w);
    }
    rowLayouts.set(windows, (layout = { offsets, width }));
  }
  return layout;
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
  /** Where each window's ring starts in the state's values. */
  ringAt: readonly number[];
  /** Values per ring slot: bucket index, count, sum, sumSq, then min and max when the window keeps extremes. */
  slotWidth: readonly number[];
  /** Per window, the index of its first distinct ring in EntityState.distinct. */
  distinctAt: readonly number[];
  /** Distinct rings over all windows. */
  distinctCount: number;
  /** Where each window's results start in an event's row of observations. */
  out: RowLayout;
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
    const slotWidth = windows.map((w) => (w.extremes === true ? 6 : 4));
    const heads: number[] = [];
    const ringAt: number[] = [];
    const distinctAt: number[] = [];
    let size = 0;
    let distinctCount = 0;
    rings.forEach((slots, w) => {
      heads.push(size);
      ringAt.push(size + 4);
      size += 4 + slots * (slotWidth[w] as number);
      distinctAt.push(distinctCount);
      distinctCount += windows[w]?.distinct?.length ?? 0;
    });
    const out = rowLayout(windows);
    spec = { windows, rings, heads, ringAt, slotWidth, distinctAt, distinctCount, out, size, dedupe: dedupeSpec(allowedLatenessMs), allowedLatenessMs };
    byLateness.set(allowedLatenessMs, spec);
  }
  return spec;
}
