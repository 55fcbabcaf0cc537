// The decision policy: the model's score bands and the rules' actions; the most severe wins.
import type { DecisionOutcome, RuleHit } from '../contract/decision.js';
import { moreSevere } from '../contract/decision.js';

export interface DecisionPolicy {
  reviewThreshold: number;
  blockThreshold: number;
}

export interface PolicyResult {
  decision: DecisionOutcome;
  score: number;
  topReasons: string[];
}

export function decide(policy: DecisionPolicy, modelScore: number, hits: readonly RuleHit[], scoreAdjustment: number): PolicyResult {
  const score = Math.min(1, Math.max(0, modelScore + scoreAdjustment));
  let decision: DecisionOutcome = 'allow';
  const reasons: string[] = [];
  if (score >= policy.blockThreshold) {
    decision = 'block';
    reasons.push(`model score ${score.toFixed(3)} ≥ block threshold ${policy.blockThreshold}`);
  } else if (score >= policy.reviewThreshold) {
    decision = 'review';
    reasons.push(`model score ${score.toFixed(3)} ≥ review threshold ${policy.reviewThreshold}`);
  }
  // An explicit allow from a rule (an allow list) overrides the model, but never a block rule.
  const ruleOutcome = hits.reduce<DecisionOutcome | null>((acc, h) => (h.action === 'tag' ? acc : acc === null ? h.action : moreSevere(acc, h.action)), null);
  if (ruleOutcome === 'allow') decision = 'allow';
  else if (ruleOutcome !== null) decision = moreSevere(decision, ruleOutcome);
  for (const h of hits) if (h.action !== 'tag') reasons.push(`${h.id}: ${h.reason}`);
  return { decision, score, topReasons: reasons.slice(0, 5) };
}
