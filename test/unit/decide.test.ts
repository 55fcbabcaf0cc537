import { describe, expect, it } from 'vitest';
import { decide } from '../../src/pipeline/decide.js';
import type { RuleHit } from '../../src/contract/decision.js';

const policy = { reviewThreshold: 0.5, blockThreshold: 0.9 };
const hit = (id: string, action: RuleHit['action']): RuleHit => ({ id, action, reason: id });

describe('decide', () => {
  it('bands the model score', () => {
    expect(decide(policy, 0.1, [], 0).decision).toBe('allow');
    expect(decide(policy, 0.5, [], 0).decision).toBe('review');
    expect(decide(policy, 0.95, [], 0).decision).toBe('block');
  });

  it('lets the most severe of score and rules win', () => {
    expect(decide(policy, 0.6, [hit('a', 'block')], 0).decision).toBe('block');
    expect(decide(policy, 0.95, [hit('a', 'review')], 0).decision).toBe('block');
    expect(decide(policy, 0.1, [hit('a', 'review'), hit('b', 'tag')], 0).decision).toBe('review');
  });

  it('lets an allow rule override the model, but not a block rule', () => {
    expect(decide(policy, 0.95, [hit('vip', 'allow')], 0).decision).toBe('allow');
    expect(decide(policy, 0.1, [hit('vip', 'allow'), hit('stolen', 'block')], 0).decision).toBe('block');
  });

  it('applies score adjustments, clamped to 0..1, and explains itself', () => {
    const r = decide(policy, 0.45, [hit('a', 'tag')], 0.1);
    expect(r.score).toBeCloseTo(0.55);
    expect(r.decision).toBe('review');
    expect(r.topReasons[0]).toMatch(/model score 0.550/);
    expect(decide(policy, 0.9, [], 0.5).score).toBe(1);
  });
});
