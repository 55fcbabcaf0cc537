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
  event: TransactionEvent;
}

const SEVERITY: Record<DecisionOutcome, number> = { allow: 0, review: 1, block: 2 };

export function moreSevere(a: DecisionOutcome, b: DecisionOutcome): DecisionOutcome {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}
