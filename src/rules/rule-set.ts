// A versioned, immutable set of compiled rules, evaluated per event in priority order.
import type { RuleHit } from '../contract/decision.js';
import type { CompiledRule, RuleInput, RuleOutcome } from './rule.js';

export interface RuleEvaluation {
  /** Active rules that hit, highest priority first. */
  hits: RuleHit[];
  /** Shadow rules that hit: counted, never decide. */
  shadowHits: RuleHit[];
  /** Rules that failed while running; not hits. */
  errors: { id: string; error: string }[];
  scoreAdjustment: number;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;

export class RuleSet {
  readonly rules: readonly CompiledRule[];

  constructor(
    rules: CompiledRule[],
    readonly version: string,
  ) {
    this.rules = rules.filter((r) => r.enabled).sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id));
  }

  static empty(): RuleSet {
    return new RuleSet([], 'none');
  }

  evaluate(input: RuleInput): RuleEvaluation {
    const result: RuleEvaluation = { hits: [], shadowHits: [], errors: [], scoreAdjustment: 0 };
    for (const rule of this.rules) {
      const outcome = run(rule, input);
      if (typeof outcome !== 'boolean') {
        if (outcome.error !== undefined) result.errors.push({ id: rule.id, error: outcome.error });
        continue;
      }
      if (!outcome) continue;
      const hit: RuleHit = { id: rule.id, action: rule.action, reason: fillReason(rule, input) };
      if (rule.mode === 'shadow') {
        result.shadowHits.push(hit);
      } else {
        result.hits.push(hit);
        result.scoreAdjustment += rule.scoreAdjustment;
      }
    }
    return result;
  }
}

function run(rule: CompiledRule, input: RuleInput): RuleOutcome | boolean {
  try {
    return rule.evaluate(input) === true;
  } catch (err) {
    return { rule, hit: false, error: err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err) };
  }
}

function fillReason(rule: CompiledRule, input: RuleInput): string {
  const template = rule.reason || rule.description || rule.id;
  return template.replace(PLACEHOLDER, (_, path: string) => {
    let value: unknown = input;
    for (const part of path.split('.')) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
    if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toFixed(2);
    return typeof value === 'string' || typeof value === 'boolean' ? String(value) : '?';
  });
}
