// Rule types: what an analyst writes in a rules file, and what a compiled rule is.
import type { RuleAction } from '../contract/decision.js';

export type RuleMode = 'active' | 'shadow';

export interface RuleSpec {
  id: string;
  description: string;
  expression: string;
  action: RuleAction;
  /** `{{event.amount}}`-style placeholders are filled from the rule's inputs. */
  reason: string;
  priority: number;
  enabled: boolean;
  mode: RuleMode;
  /** Added to the model score when the rule hits (clamped to 0..1). */
  scoreAdjustment: number;
}

export interface RuleInput {
  event: Record<string, unknown>;
  features: Record<string, Record<string, number>>;
  score: number;
}

export interface CompiledRule extends RuleSpec {
  file: string;
  line: number;
  evaluate(input: RuleInput): unknown;
}

export interface RuleOutcome {
  rule: CompiledRule;
  hit: boolean;
  /** Set when the expression failed while running (e.g. a missing field): not a hit. */
  error?: string;
}
