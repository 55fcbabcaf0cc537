import { describe, expect, it } from 'vitest';
import { decide, type RulesVerdict } from '../../src/pipeline/decide.js';
import type { DecisionOutcome, RuleHit } from '../../src/contract/decision.js';

const policy = { reviewThreshold: 0.5, blockThreshold: 0.9 };
const hit = (id: string, action: RuleHit['action']): RuleHit => ({ id, action, reason: id });
const rules = (outcome: DecisionOutcome | null, ...hits: RuleHit[]): RulesVerdict => ({ hits, outcome, scoreAdjustment: 0 });

describe('decide', () => {
  it('bands the model score', () => {
    expect(decide(policy, 0.1, rules(null)).decision).toBe('allow');
    expect(decide(policy, 0.5, rules(null)).decision).toBe('review');
    expect(decide(policy, 0.95, rules(null)).decision).toBe('block');
  });

  it('lets the more severe of the model and the rules win', () => {
    expect(decide(policy, 0.6, rules('block', hit('a', 'block'))).decision).toBe('block');
    expect(decide(policy, 0.95, rules('review', hit('a', 'review'))).decision).toBe('block');
    expect(decide(policy, 0.1, rules('review', hit('a', 'review'), hit('b', 'tag'))).decision).toBe('review');
  });

  it('lets the rules\' allow override the model', () => {
    expect(decide(policy, 0.95, rules('allow', hit('vip', 'allow'))).decision).toBe('allow');
  });

  it('applies score adjustments, clamped to 0..1, and explains itself', () => {
    const r = decide(policy, 0.45, { hits: [hit('a', 'tag')], outcome: null, scoreAdjustment: 0.1 });
    expect(r.score).toBeCloseTo(0.55);
    expect(r.decision).toBe('review');
    expect(r.topReasons[0]).toMatch(/model score 0.550/);
    expect(decide(policy, 0.9, { hits: [], outcome: null, scoreAdjustment: 0.5 }).score).toBe(1);
  });
});
