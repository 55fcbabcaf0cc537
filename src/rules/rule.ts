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
  /** Demote the rule to shadow while it hits more than this share of the events (the breaker); none when absent. */
  maxHitRate?: number;
}

export interface RuleInput {
  event: Record<string, unknown>;
  features: Record<string, Record<string, number>>;
  score: number;
}

/** What a compiled rule runs on: the input and the rule set's lists. */
export interface RuleContext extends RuleInput {
  lists: Readonly<Record<string, ReadonlyMap<string, true>>>;
}

/** A path into the input, such as ['features', 'card', 'count_1h']. */
export type InputPath = readonly string[];

/** A reason template: literal text and the paths whose values go between. */
export interface ReasonTemplate {
  literals: readonly string[];
  paths: readonly InputPath[];
}

export interface CompiledRule extends RuleSpec {
  file: string;
  line: number;
  evaluate(context: RuleContext): unknown;
  reasonTemplate: ReasonTemplate;
  /** The inputs the expression reads (path, and its dotted name): their values explain a hit. */
  inputs: readonly { key: string; path: InputPath }[];
}

export interface RuleOutcome {
  rule: CompiledRule;
  hit: boolean;
  /** Set when the expression failed while running (e.g. a missing field): not a hit. */
  error?: string;
}
