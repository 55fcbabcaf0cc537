import { describe, expect, it } from 'vitest';
import { RuleCompileError } from '../../src/contract/errors.js';
import { DEFAULT_FEATURE_SET } from '../../src/features/definitions.js';
import { loadRuleSet } from '../../src/rules/load.js';
import type { RuleInput } from '../../src/rules/rule.js';
import { rulesDir } from '../helpers/rules.js';

const input = (amount: number, count1h = 0, extra: Record<string, unknown> = {}): RuleInput => ({
  event: { transactionId: 't', accountId: 'a', amount, currency: 'EUR', country: 'FR', ...extra },
  features: { account: { count_1h: count1h, amount_ratio_30d: 1 }, event: { amount } },
  score: 0.1,
});

const rule = (fields: string): string => `rules:\n  - id: r1\n    action: review\n${fields}`;

function compileError(text: string): RuleCompileError {
  try {
    loadRuleSet(rulesDir({ 'a.yaml': text }), DEFAULT_FEATURE_SET);
  } catch (err) {
    expect(err).toBeInstanceOf(RuleCompileError);
    return err as RuleCompileError;
  }
  throw new Error('expected the rules to be refused');
}

describe('rules', () => {
  it('evaluates active and shadow rules in priority order, with reasons filled in', () => {
    const set = loadRuleSet(
      rulesDir({
        'a.yaml': `version: 7
rules:
  - id: big
    expression: event.amount > 1000.0
    action: block
    reason: "amount {{event.amount}}"
    priority: 10
  - id: busy
    expression: features.account.count_1h >= 3.0
    action: review
    reason: "{{features.account.count_1h}} in 1h"
    priority: 20
  - id: shadowed
    expression: event.amount > 1.0
    action: block
    mode: shadow
  - id: off
    expression: "true"
    action: block
    enabled: false
`,
      }),
      DEFAULT_FEATURE_SET,
    );
    expect(set.version).toMatch(/^7@[0-9a-f]{12}$/);
    const r = set.evaluate(input(1500, 4));
    expect(r.hits.map((h) => h.id)).toEqual(['busy', 'big']);
    expect(r.hits[1]?.reason).toBe('amount 1500');
    expect(r.hits[0]?.reason).toBe('4 in 1h');
    // Each hit carries the values its expression read.
    expect(r.hits[0]?.values).toEqual({ 'features.account.count_1h': 4 });
    expect(r.hits[1]?.values).toEqual({ 'event.amount': 1500 });
    // The highest-priority hit decides: busy (20, review) over big (10, block).
    expect(r.outcome).toBe('review');
    expect(r.shadowHits.map((h) => h.id)).toEqual(['shadowed']);
    expect(set.evaluate(input(5, 0)).hits).toEqual([]);
  });

  it('turns a rule that fails while running into an error outcome, not an exception', () => {
    const set = loadRuleSet(rulesDir({ 'a.yaml': rule('    expression: event.merchantId == "m1"\n') }), DEFAULT_FEATURE_SET);
    const r = set.evaluate(input(10));
    expect(r.hits).toEqual([]);
    expect(r.errors[0]?.id).toBe('r1');
  });

  it.each([
    ['a syntax error', rule('    expression: event.amount >\n'), /r1.*Unexpected token/],
    ['an unknown feature', rule('    expression: features.account.count_2h > 1.0\n'), /unknown feature account\.count_2h/],
    ['an unknown variable', rule('    expression: evnt.amount > 1.0\n'), /evnt/],
    ['a non-boolean expression', rule('    expression: event.amount + 1.0\n'), /must be a bool/],
    ['a bad action', 'rules:\n  - id: r1\n    action: deny\n    expression: "true"\n', /action/],
    ['a missing expression', 'rules:\n  - id: r1\n    action: review\n', /expression/],
    ['an unknown field', rule('    expression: "true"\n    severity: high\n'), /severity/],
    ['a bad id', 'rules:\n  - id: Bad Id\n    action: review\n    expression: "true"\n', /id/],
    ['invalid YAML', 'rules:\n  - id: r1\n   action: [\n', /YAML/],
    ['no rules list', 'rule: {}\n', /rules/],
    ['a score adjustment out of range', rule('    expression: "true"\n    scoreAdjustment: 3\n'), /scoreAdjustment/],
    ['an unknown event field', rule('    expression: event.amonut > 10.0\n'), /unknown event field amonut; the contract's fields are transactionId/],
    ['a number compared with a string', rule("    expression: event.amount > 'high'\n"), /type error: no such overload: double > string/],
    ['a string field compared with a number', rule('    expression: event.country == 7\n'), /type error/],
    ['an unknown list', rule('    expression: event.cardId in lists.stolen_cards\n'), /unknown list stolen_cards; no lists are loaded/],
    ['a reason naming nothing', rule('    expression: "true"\n    reason: "{{features.card.count_2h}} payments"\n'), /reason: \{\{features.card.count_2h\}\} names no event field, feature or score/],
    ['a breaker share out of range', rule('    expression: "true"\n    maxHitRate: 0\n'), /maxHitRate/],
    ['extra fields that are not a list', 'fields: cardBin\nrules: []\n', /fields: Invalid input: expected array/],
  ])('refuses %s with file, line and cause', (_, text, cause) => {
    const err = compileError(text);
    expect(err.message).toMatch(/a\.yaml:\d+/);
    expect(err.message).toMatch(cause);
  });

  it('points at the line of the bad expression', () => {
    const err = compileError('rules:\n  - id: ok\n    action: tag\n    expression: "true"\n  - id: r2\n    action: review\n    expression: features.nope.x > 1.0\n');
    expect(err.location.line).toBe(7);
    expect(err.location.ruleId).toBe('r2');
  });

  it('refuses duplicate rule ids across files', () => {
    const dir = rulesDir({ 'a.yaml': rule('    expression: "true"\n'), 'b.yaml': rule('    expression: "false"\n') });
    expect(() => loadRuleSet(dir, DEFAULT_FEATURE_SET)).toThrow(/duplicate rule id.*a\.yaml/);
  });

  it('points at the column of a type error inside the expression', () => {
    const err = compileError(rule("    expression: event.amount > 10.0 && event.amount > 'x'\n"));
    expect(err.location).toMatchObject({ line: 4, ruleId: 'r1' });
    // The expression starts at column 17; cel-js marks the offending comparison.
    expect(err.location.column).toBeGreaterThan(17);
  });

  it('reads extra event fields a file declares', () => {
    const set = loadRuleSet(rulesDir({ 'a.yaml': `fields: [cardBin]\n${rule('    expression: has(event.cardBin) && event.cardBin == "412345"\n')}` }), DEFAULT_FEATURE_SET);
    expect(set.evaluate(input(10, 0, { cardBin: '412345' })).hits.map((h) => h.id)).toEqual(['r1']);
    expect(set.evaluate(input(10, 0)).hits).toEqual([]);
  });

  it('compiles the shipped rules', () => {
    expect(loadRuleSet('rules', DEFAULT_FEATURE_SET).rules.length).toBeGreaterThan(0);
  });
});
