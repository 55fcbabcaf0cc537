// A versioned set of compiled rules, evaluated per event in priority order. The rules' verdict
// is the action of the highest-priority active hit (the most severe among equal priorities);
// every hit carries its reason and the values it read. A rule with a breaker is demoted to
// shadow while it hits more than its share of the events (rule-breaker.ts).
import type { DecisionOutcome, RuleHit } from '../contract/decision.js';
import { moreSevere } from '../contract/decision.js';
import { NO_LISTS, type RuleLists } from './lists.js';
import { RuleBreaker, type BreakerListener } from './rule-breaker.js';
import type { CompiledRule, InputPath, RuleContext, RuleInput, RuleOutcome } from './rule.js';

export interface RuleEvaluation {
  /** Active rules that hit, highest priority first. */
  hits: RuleHit[];
  /** Shadow rules that hit (and rules their breaker demoted): counted, never decide. */
  shadowHits: RuleHit[];
  /** Rules that failed while running; not hits. */
  errors: { id: string; error: string }[];
  scoreAdjustment: number;
  /** The highest-priority active hit's action (tags aside; the most severe among equal priorities); null when none. */
  outcome: DecisionOutcome | null;
}

export interface RuleSetOptions {
  /** A breaker for rules that set no `maxHitRate` of their own; none when absent. */
  defaultMaxHitRate?: number;
  /** Events per breaker judgement (default 1000). */
  breakerWindow?: number;
  /** false: no breakers at all, whatever the rules say (a backtest judges rules as written). */
  breakers?: boolean;
}

export class RuleSet {
  readonly rules: readonly CompiledRule[];
  private readonly breakers: (RuleBreaker | null)[];
  private readonly listValues: RuleContext['lists'];
  private readonly breakerWindow: number;
  private evaluated = 0;
  private listener: BreakerListener | null = null;

  constructor(
    rules: CompiledRule[],
    readonly version: string,
    readonly lists: RuleLists = NO_LISTS,
    options: RuleSetOptions = {},
  ) {
    this.rules = rules.filter((r) => r.enabled).sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id));
    this.breakers = this.rules.map((r) => {
      const rate = r.maxHitRate ?? options.defaultMaxHitRate;
      return rate === undefined || r.mode === 'shadow' || options.breakers === false ? null : new RuleBreaker(r.id, rate);
    });
    this.listValues = Object.fromEntries(lists.values);
    this.breakerWindow = options.breakerWindow ?? 1000;
  }

  static empty(): RuleSet {
    return new RuleSet([], 'none');
  }

  /** Told when a rule's breaker opens or closes. */
  onBreakerChange(listener: BreakerListener): void {
    this.listener = listener;
  }

  /** Whether the rule has a breaker (its own maxHitRate, or the default). */
  hasBreaker(ruleId: string): boolean {
    return this.breakers.some((b) => b?.ruleId === ruleId);
  }

  /** The rules whose breaker is open now. */
  openBreakers(): string[] {
    return this.breakers.filter((b): b is RuleBreaker => b?.open === true).map((b) => b.ruleId);
  }

  evaluate(input: RuleInput): RuleEvaluation {
    const result: RuleEvaluation = { hits: [], shadowHits: [], errors: [], scoreAdjustment: 0, outcome: null };
    const context: RuleContext = { event: input.event, features: input.features, score: input.score, lists: this.listValues };
    let decidingPriority = -Infinity;
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i] as CompiledRule;
      const outcome = run(rule, context);
      if (typeof outcome !== 'boolean') {
        if (outcome.error !== undefined) result.errors.push({ id: rule.id, error: outcome.error });
        continue;
      }
      if (!outcome) continue;
      const hit: RuleHit = { id: rule.id, action: rule.action, reason: fillReason(rule, context), values: readValues(rule.inputs, context) };
      const breaker = this.breakers[i];
      if (breaker) breaker.hits++;
      if (rule.mode === 'shadow' || breaker?.open === true) {
        result.shadowHits.push(hit);
        continue;
      }
      result.hits.push(hit);
      result.scoreAdjustment += rule.scoreAdjustment;
      if (rule.action === 'tag' || rule.priority < decidingPriority) continue;
      result.outcome = result.outcome === null ? rule.action : moreSevere(result.outcome, rule.action);
      decidingPriority = rule.priority;
    }
    if (++this.evaluated >= this.breakerWindow) this.judgeBreakers();
    return result;
  }

  private judgeBreakers(): void {
    for (const breaker of this.breakers) {
      if (breaker === null) continue;
      const change = breaker.judge(this.evaluated);
      if (change !== null) this.listener?.(breaker.ruleId, change.open, change.hitRate);
    }
    this.evaluated = 0;
  }
}

function run(rule: CompiledRule, context: RuleContext): RuleOutcome | boolean {
  try {
    return rule.evaluate(context) === true;
  } catch (err) {
    return { rule, hit: false, error: err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err) };
  }
}

function valueAt(path: InputPath, context: RuleContext): unknown {
  let value: unknown = context;
  for (const part of path) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}

/** The values a hit's expression read, by path: `{ "features.card.count_1h": 6, "event.amount": 2.46 }`. */
function readValues(inputs: CompiledRule['inputs'], context: RuleContext): Record<string, string | number | boolean | null> {
  const values: Record<string, string | number | boolean | null> = {};
  for (const { key, path } of inputs) {
    const value = valueAt(path, context);
    values[key] = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
  }
  return values;
}

function fillReason(rule: CompiledRule, context: RuleContext): string {
  const { literals, paths } = rule.reasonTemplate;
  let text = literals[0] as string;
  for (let i = 0; i < paths.length; i++) {
    const value = valueAt(paths[i] as InputPath, context);
    const shown = typeof value === 'number' ? (Number.isInteger(value) ? String(value) : value.toFixed(2)) : typeof value === 'string' || typeof value === 'boolean' ? String(value) : '?';
    text += shown + (literals[i + 1] as string);
  }
  return text;
}
