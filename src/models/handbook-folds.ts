// The handbook's prequential test folds (Le Borgne et al., chapter "Model selection", its
// `prequentialSplit` on `start_date_training_for_test`): each fold trains on a week, waits a
// 7-day label delay, and tests on the week after; the 4 test weeks are consecutive, the first
// from 2018-08-08 (training week from 2018-07-25), and the published test figures are their mean.
// Here fold 1 is the earliest (the week scripts/handbook-benchmark.sh always tested) and each
// later fold is 7 days on.
import type { RankingMetrics } from './metrics.js';

const DAY_MS = 86_400_000;

/** The handbook's first training week's start and its periods' length (delta_train = delta_delay = delta_test = 7 days). */
export const HANDBOOK_TRAIN_FROM = '2018-07-25T00:00:00.000Z';
export const HANDBOOK_PERIOD_DAYS = 7;
/** Days of history before a fold's earliest fitted transaction: a 30-day window and 7 days of label delay. */
export const HANDBOOK_WARMUP_DAYS = 37;
/** Days replayed before a test week: the training, delay and search weeks are inside, and every window is full. */
export const HANDBOOK_REPLAY_DAYS = 38;

export interface HandbookFold {
  /** 1 for the earliest test week. */
  fold: number;
  /** The handbook's training week, [trainFrom, trainUntil): the model is fit on it. */
  trainFrom: string;
  trainUntil: string;
  /**
   * `train --search`: the week before the training week, [searchFrom, trainFrom). Its model is fit
   * there and scored on the training week, which chooses the features and parameters, then the
   * final model is fit on the training week (`--refit`): every label used belongs to a
   * transaction before trainUntil, so it is known by testFrom.
   */
  searchFrom: string;
  /** The test week, [testFrom, testUntil), after the 7-day delay week [trainUntil, testFrom). */
  testFrom: string;
  testUntil: string;
  /** Where the fold's replay starts (every window full by the search week). */
  replayFrom: string;
}

export interface HandbookFoldPlan {
  folds: HandbookFold[];
  /** The history every fold reads: from the first fold's warm-up to the last test week's end. */
  historyFrom: string;
  historyUntil: string;
  /** Labels kept: those of transactions up to the last test week's end, each known 7 days later. */
  labelsUntil: string;
}

/** The first `count` (1 to 4) of the handbook's test folds, and the history they need. */
export function handbookFolds(count: number): HandbookFoldPlan {
  if (!Number.isInteger(count) || count < 1 || count > 4) throw new Error(`folds: 1 to 4 (the handbook's 4 prequential test weeks), not ${count}`);
  const start = Date.parse(HANDBOOK_TRAIN_FROM);
  const week = HANDBOOK_PERIOD_DAYS * DAY_MS;
  const iso = (ms: number): string => new Date(ms).toISOString();
  const folds: HandbookFold[] = [];
  for (let i = 0; i < count; i++) {
    const trainFrom = start + i * week;
    const testFrom = trainFrom + 2 * week;
    folds.push({
      fold: i + 1,
      trainFrom: iso(trainFrom),
      trainUntil: iso(trainFrom + week),
      searchFrom: iso(trainFrom - week),
      testFrom: iso(testFrom),
      testUntil: iso(testFrom + week),
      replayFrom: iso(testFrom - HANDBOOK_REPLAY_DAYS * DAY_MS),
    });
  }
  const last = start + (count - 1) * week + 3 * week;
  return { folds, historyFrom: iso(start - week - HANDBOOK_WARMUP_DAYS * DAY_MS), historyUntil: iso(last), labelsUntil: iso(last + week) };
}

/** The mean of each metric over the folds (null when a fold has none: the mean would mislead). */
export function meanOverFolds(folds: readonly RankingMetrics[]): RankingMetrics {
  const mean = (key: keyof RankingMetrics): number | null => {
    const values = folds.map((f) => f[key]);
    if (values.length === 0 || values.some((v) => v === null)) return null;
    return (values as number[]).reduce((a, b) => a + b, 0) / values.length;
  };
  return { aucRoc: mean('aucRoc'), averagePrecision: mean('averagePrecision'), cardPrecisionAt100: mean('cardPrecisionAt100') };
}
