// The handbook's test set (Le Borgne et al., "Reproducible Machine Learning for Credit Card Fraud
// Detection", shared function get_train_test_set): each test day leaves out the cards already
// known to be compromised at its start, that is the cards with a fraud among the transactions
// from the training period's start until a label delay before that day. Those cards would have
// been blocked; scoring them again would reward a model for what the investigators already know.
import type { CardScored } from './metrics.js';

const DAY_MS = 86_400_000;

export interface HandbookTestPeriod {
  /** Start of the training period: frauds before it are not counted as known. */
  trainFromMs: number;
  /** Start of the test period (midnight UTC). */
  testFromMs: number;
  /** End of the test period (exclusive). */
  testUntilMs: number;
  /** A fraud is known this long after its transaction (the handbook: 7 days). */
  delayMs: number;
}

/**
 * The test rows the handbook scores. `rows`: scored transactions of the test period (others are
 * dropped); `frauds`: the fraudulent transactions' cards and times, from any period.
 */
export function handbookTestSet(rows: readonly CardScored[], frauds: readonly { card: string; timeMs: number }[], period: HandbookTestPeriod): CardScored[] {
  // The first time each card's compromise is known, counting from the training start.
  const knownFrom = new Map<string, number>();
  for (const f of frauds) {
    if (f.timeMs < period.trainFromMs) continue;
    // Known from the start of the day after the one its label arrives in (the handbook counts
    // whole days: a fraud is known on day D when its transaction was before D minus the delay).
    const day = Math.floor((f.timeMs + period.delayMs - period.testFromMs) / DAY_MS) + 1;
    const knownAt = period.testFromMs + Math.max(0, day) * DAY_MS;
    if (knownAt < (knownFrom.get(f.card) ?? Infinity)) knownFrom.set(f.card, knownAt);
  }
  return rows.filter((r) => {
    if (r.timeMs < period.testFromMs || r.timeMs >= period.testUntilMs) return false;
    const dayStart = period.testFromMs + Math.floor((r.timeMs - period.testFromMs) / DAY_MS) * DAY_MS;
    return (knownFrom.get(r.card) ?? Infinity) > dayStart;
  });
}
