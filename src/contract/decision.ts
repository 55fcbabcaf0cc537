// The decision the detector emits for every transaction: what was decided, and why.
import type { TransactionEvent } from './transaction.js';

export const DECISION_SCHEMA_VERSION = 1;

export type DecisionOutcome = 'allow' | 'review' | 'block';
export type RuleAction = DecisionOutcome | 'tag';

export interface RuleHit {
  id: string;
  action: RuleAction;
  reason: string;
  /** The values the rule's expression read, by path: `{ "features.card.count_1h": 6, "event.amount": 2.46 }`. */
  values?: Record<string, string | number | boolean | null>;
}

/** One feature's share of the model's score (its log-odds) for this event. */
export interface FeatureContribution {
  feature: string;
  value: number;
  /** Positive pushes towards fraud. */
  contribution: number;
}

export interface Decision {
  schemaVersion: typeof DECISION_SCHEMA_VERSION;
  transactionId: string;
  accountId: string;
  decision: DecisionOutcome;
  score: number;
  modelVersion: string;
  rulesVersion: string;
  ruleHits: RuleHit[];
  topReasons: string[];
  eventTime: string;
  decidedAt: string;
  /** The feature values the model and rules saw, e.g. `{ account: { count_1h: 3 } }`. */
  features: Record<string, Record<string, number>>;
  /** On alerts, when the model explains itself: the features that pushed its score up the most. */
  contributions?: FeatureContribution[];
  /** With a challenger model: its version and its score for this event (it decides nothing). */
  challenger?: { version: string; score: number };
  event: TransactionEvent;
}

const SEVERITY: Record<DecisionOutcome, number> = { allow: 0, review: 1, block: 2 };

export function moreSevere(a: DecisionOutcome, b: DecisionOutcome): DecisionOutcome {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}
