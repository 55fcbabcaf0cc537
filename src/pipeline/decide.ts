// The decision policy: the model's score bands and the rules' verdict (the action of their
// highest-priority hit, rule-set.ts). A rules' allow overrides the model; otherwise the more
// severe of the model's band and the rules' verdict wins.
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

/** What the rules said about one event: their hits in priority order, their verdict and score adjustment. */
export interface RulesVerdict {
  hits: readonly RuleHit[];
  outcome: DecisionOutcome | null;
  scoreAdjustment: number;
}

export function decide(policy: DecisionPolicy, modelScore: number, rules: RulesVerdict): PolicyResult {
  const score = Math.min(1, Math.max(0, modelScore + rules.scoreAdjustment));
  let decision: DecisionOutcome = 'allow';
  const reasons: string[] = [];
  if (score >= policy.blockThreshold) {
    decision = 'block';
    reasons.push(`model score ${score.toFixed(3)} ≥ block threshold ${policy.blockThreshold}`);
  } else if (score >= policy.reviewThreshold) {
    decision = 'review';
    reasons.push(`model score ${score.toFixed(3)} ≥ review threshold ${policy.reviewThreshold}`);
  }
  // An allow that decides the rules (an allow list, say) overrides the model.
  if (rules.outcome === 'allow') decision = 'allow';
  else if (rules.outcome !== null) decision = moreSevere(decision, rules.outcome);
  for (const h of rules.hits) if (h.action !== 'tag') reasons.push(`${h.id}: ${h.reason}`);
  return { decision, score, topReasons: reasons.slice(0, 5) };
}
