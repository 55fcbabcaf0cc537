// The decision the detector emits for every transaction: what was decided, and why.
import type { TransactionEvent } from './transaction.js';

export const DECISION_SCHEMA_VERSION = 1;

export type DecisionOutcome = 'allow' | 'review' | 'block';
export type RuleAction = DecisionOutcome | 'tag';

export interface RuleHit {
  id: string;
  action: RuleAction;
  reason: string;
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
