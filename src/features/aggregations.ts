// What each aggregation is, in one place: what it is computed over, what its series must keep
// per bucket, which of the series' values it reads, and how its value is derived from them.
// The loader (load.ts), the planner (definitions.ts) and the engine (engine.ts) read this
// table; a new aggregation is one entry here (and, if it needs a new kind of per-bucket state,
// that state in entity-state.ts).
import { ROW, type WindowSpec } from './windows.js';

/**
 * What an aggregation is computed over: the entity's payments (in a window, optionally
 * filtered), the labels of its transactions (fed by `fraud-labels`, windowed by when each label
 * became known), or its previous event (no window).
 */
export type AggregationSource = 'payments' | 'labels' | 'previous-event';

/** What a series keeps per bucket besides count, sum and sum of squares. */
export type SeriesNeed = 'moments' | 'extremes' | 'distinct';

/** Which of a series' values an aggregation reads besides count, sum and sum of squares. */
export type SeriesRead = 'moments' | 'min' | 'max' | 'distinct';

/**
 * A feature's value from its series' count, sum and sum of squares, the value it reads (its
 * min, max or distinct count; else the count), and the event's own amount.
 */
export type Derive = (count: number, sum: number, sumSq: number, value: number, amount: number) => number;

export interface AggregationKind {
  source: AggregationSource;
  needs: SeriesNeed;
  reads: SeriesRead;
  /** For `previous-event`: unused (the engine takes the time since the previous event). */
  derive: Derive;
  /** One line for `--help`-style listings and error messages. */
  description: string;
}

const mean = (count: number, sum: number): number => (count > 0 ? sum / count : 0);

const TABLE = {
  count: { source: 'payments', needs: 'moments', reads: 'moments', derive: (count) => count, description: 'payments in the window' },
  sum: { source: 'payments', needs: 'moments', reads: 'moments', derive: (_c, sum) => sum, description: 'their total amount' },
  mean: { source: 'payments', needs: 'moments', reads: 'moments', derive: (count, sum) => mean(count, sum), description: 'their mean amount' },
  std: {
    source: 'payments',
    needs: 'moments',
    reads: 'moments',
    derive: (count, sum, sumSq) => (count > 1 ? Math.sqrt(Math.max(0, sumSq / count - mean(count, sum) ** 2)) : 0),
    description: 'the standard deviation of their amounts',
  },
  min: { source: 'payments', needs: 'extremes', reads: 'min', derive: (_c, _s, _q, value) => (Number.isNaN(value) ? 0 : value), description: 'the smallest amount' },
  max: { source: 'payments', needs: 'extremes', reads: 'max', derive: (_c, _s, _q, value) => (Number.isNaN(value) ? 0 : value), description: 'the largest amount' },
  distinct: { source: 'payments', needs: 'distinct', reads: 'distinct', derive: (_c, _s, _q, value) => value, description: 'distinct values of a field (`of`), up to `limit`' },
  amount_ratio: {
    source: 'payments',
    needs: 'moments',
    reads: 'moments',
    derive: (count, sum, _q, _v, amount) => {
      const m = mean(count, sum);
      return m > 0 ? amount / m : 1;
    },
    description: "this payment's amount over the window's mean",
  },
  seconds_since_last: { source: 'previous-event', needs: 'moments', reads: 'moments', derive: () => 0, description: "seconds since the entity's previous payment" },
  // A label counts 1 and adds 1 when it says fraud, 0 when legit.
  labelled_count: { source: 'labels', needs: 'moments', reads: 'moments', derive: (count) => count, description: 'labelled transactions' },
  fraud_count: { source: 'labels', needs: 'moments', reads: 'moments', derive: (_c, sum) => sum, description: 'confirmed frauds among them' },
  fraud_rate: { source: 'labels', needs: 'moments', reads: 'moments', derive: (count, sum) => mean(count, sum), description: 'their fraud rate' },
} as const satisfies Record<string, AggregationKind>;

export type Aggregation = keyof typeof TABLE;

export const AGGREGATIONS: Readonly<Record<Aggregation, AggregationKind>> = TABLE;

/** The aggregations, in the table's order (the loader's list of accepted names). */
export const AGGREGATION_NAMES = Object.keys(AGGREGATIONS) as [Aggregation, ...Aggregation[]];

export function aggregationKind(a: Aggregation): AggregationKind {
  return AGGREGATIONS[a];
}

/**
 * Where, from the start of its series' values in an event's row of observations, the value an
 * aggregation reads is (`distinct`: the index of its field among the series' distinct fields).
 */
export function valueOffset(series: WindowSpec | undefined, reads: SeriesRead, distinct: number): number {
  switch (reads) {
    case 'moments':
      return ROW.count;
    case 'min':
      return ROW.min;
    case 'max':
      return ROW.max;
    case 'distinct':
      return ROW.optional + (series?.extremes === true ? 2 : 0) + distinct;
  }
}
