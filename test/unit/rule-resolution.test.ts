// How rules decide: every action, resolution by priority, shadow mode, allow and deny lists,
// and the breaker that demotes a rule gone wild to shadow.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { RuleCompileError } from '../../src/contract/errors.js';
import { parseTransaction } from '../../src/contract/transaction.js';
import { buildPipeline, memoryStore } from '../../src/cli/build.js';
import { DEFAULT_FEATURE_SET } from '../../src/features/definitions.js';
import { processBatch } from '../../src/pipeline/process-batch.js';
import { loadRuleSet, type LoadOptions } from '../../src/rules/load.js';
import type { RuleInput } from '../../src/rules/rule.js';
import { EVENT_LIMITS, tx } from '../helpers/events.js';
import { rulesDir } from '../helpers/rules.js';

const input = (event: Record<string, unknown>): RuleInput => ({
  event: { transactionId: 't', accountId: 'a', amount: 10, currency: 'EUR', ...event },
  features: { account: { count_1h: 0 } },
  score: 0,
});

const rule = (id: string, expression: string, action: string, priority: number, extra = ''): string =>
  `  - id: ${id}\n    expression: ${JSON.stringify(expression)}\n    action: ${action}\n    priority: ${priority}\n${extra}`;

const setWith = (options: LoadOptions, ...rules: string[]): ReturnType<typeof loadRuleSet> => loadRuleSet(rulesDir({ 'r.yaml': `rules:\n${rules.join('')}` }), DEFAULT_FEATURE_SET, options);
const set = (...rules: string[]): ReturnType<typeof loadRuleSet> => setWith({}, ...rules);

describe('rule actions through the pipeline', () => {
  it('allows, reviews, blocks and tags', async () => {
    const dir = rulesDir({
      'r.yaml': `rules:\n${rule('big', 'event.amount >= 1000.0', 'block', 10)}${rule('mid', 'event.amount >= 100.0', 'review', 5)}${rule('ecom', "event.channel == 'ecom'", 'tag', 50)}${rule('trusted', "event.merchantId == 'trusted'", 'allow', 100)}`,
    });
    const config = loadConfig({ RULES_DIR: dir });
    const pipeline = buildPipeline(config, memoryStore(config));
    const t = Date.parse('2026-05-01T08:00:00Z');
    const raw = [
      { amount: 5, channel: 'pos' },
      { amount: 150, channel: 'pos' },
      { amount: 5000, channel: 'pos' },
      { amount: 5, channel: 'ecom' },
      { amount: 5000, channel: 'ecom', merchantId: 'trusted' },
    ].map((o, i) => Buffer.from(JSON.stringify(tx({ accountId: `a${i}`, timestamp: t + i, ...o }))));
    const out = await processBatch(raw, (b) => parseTransaction(b, EVENT_LIMITS), pipeline.deps);
    expect(out.decided.map((d) => d.outcome)).toEqual(['allow', 'review', 'block', 'allow', 'allow']);
    expect(out.decided.map((d) => d.ruleHits.map((h) => h.id))).toEqual([[], ['mid'], ['big', 'mid'], ['ecom'], ['trusted', 'ecom', 'big', 'mid']]);
    expect(out.decided[3]?.decision?.topReasons).toEqual([]);
  });
});

describe('resolution by priority', () => {
  it('lets the highest-priority hit decide, whatever its severity', () => {
    const rules = set(rule('vip', "event.accountId == 'vip'", 'allow', 100), rule('huge', 'event.amount > 10000.0', 'block', 50), rule('sanctioned', "event.country == 'KP'", 'block', 200));
    expect(rules.evaluate(input({ accountId: 'vip', amount: 50_000 })).outcome).toBe('allow');
    expect(rules.evaluate(input({ accountId: 'vip', amount: 50_000, country: 'KP' })).outcome).toBe('block');
    expect(rules.evaluate(input({ amount: 50_000 })).outcome).toBe('block');
    expect(rules.evaluate(input({})).outcome).toBeNull();
  });

  it('takes the most severe action among hits of equal priority, and never a tag or a shadow rule', () => {
    const rules = set(
      rule('a', 'event.amount > 1.0', 'review', 10),
      rule('b', 'event.amount > 2.0', 'block', 10),
      rule('c', 'event.amount > 3.0', 'allow', 10),
      rule('t', 'true', 'tag', 99),
      rule('s', 'true', 'allow', 500, '    mode: shadow\n'),
    );
    const r = rules.evaluate(input({ amount: 5 }));
    expect(r.outcome).toBe('block');
    expect(r.hits.map((h) => h.id)).toEqual(['t', 'a', 'b', 'c']);
    expect(r.shadowHits.map((h) => h.id)).toEqual(['s']);
    expect(rules.evaluate(input({ amount: 1.5 })).outcome).toBe('review');
  });
});

describe('allow and deny lists', () => {
  it('are read from <rules>/lists/<name>.txt and referenced as lists.<name>', () => {
    const dir = rulesDir({
      'r.yaml': `fields: [cardBin]\nrules:\n${rule('stolen', 'has(event.cardId) && event.cardId in lists.stolen_cards', 'block', 90)}${rule('risky-bin', 'has(event.cardBin) && event.cardBin in lists.risky_bins', 'review', 40)}${rule('vip', 'event.accountId in lists.vip_accounts', 'allow', 50)}`,
      'lists/stolen_cards.txt': '# reported stolen\ncard-1\ncard-2   # since 2026-11-30\n\n',
      'lists/risky_bins.txt': '412345\n',
      'lists/vip_accounts.txt': 'a-vip\n',
    });
    const rules = loadRuleSet(dir, DEFAULT_FEATURE_SET);
    expect(rules.evaluate(input({ cardId: 'card-2', accountId: 'a-vip' })).outcome).toBe('block');
    expect(rules.evaluate(input({ cardId: 'card-3', accountId: 'a-vip', cardBin: '412345' })).outcome).toBe('allow');
    expect(rules.evaluate(input({ cardId: 'card-3', cardBin: '412345' })).outcome).toBe('review');
    expect(rules.evaluate(input({ cardId: '# reported stolen' })).outcome).toBeNull();

    // A changed list is a new rule-set version.
    const before = rules.version;
    writeFileSync(join(dir, 'lists/stolen_cards.txt'), 'card-1\ncard-2\ncard-3\n');
    const after = loadRuleSet(dir, DEFAULT_FEATURE_SET);
    expect(after.version).not.toBe(before);
    expect(after.evaluate(input({ cardId: 'card-3' })).outcome).toBe('block');
  });

  it.each([
    ['a list name rules cannot spell', { 'lists/Stolen-Cards.txt': 'x\n' }, /Stolen-Cards\.txt: list name "Stolen-Cards"/],
    ['two values on one line', { 'lists/stolen.txt': 'a\nb c\n' }, /stolen\.txt:2: one value per line/],
  ])('refuses %s with its file and line', (_, files, cause) => {
    const dir = rulesDir({ 'r.yaml': 'rules: []\n', ...files });
    expect(() => loadRuleSet(dir, DEFAULT_FEATURE_SET)).toThrow(RuleCompileError);
    expect(() => loadRuleSet(dir, DEFAULT_FEATURE_SET)).toThrow(cause);
  });
});

describe('the breaker', () => {
  it('demotes a rule that hits more than its share to shadow, and restores it once it calms down', () => {
    const rules = setWith({ breakerWindow: 100 }, rule('wild', 'event.amount > 100.0', 'block', 10, '    maxHitRate: 0.2\n'), rule('calm', 'event.amount > 1000000.0', 'block', 10));
    const changes: [string, boolean, number][] = [];
    rules.onBreakerChange((id, open, rate) => changes.push([id, open, rate]));
    // 30 hits in 100 events: more than 20%.
    for (let i = 0; i < 100; i++) expect(rules.evaluate(input({ amount: i < 30 ? 500 : 5 })).outcome).toBe(i < 30 ? 'block' : null);
    expect(changes).toEqual([['wild', true, 0.3]]);
    expect(rules.openBreakers()).toEqual(['wild']);
    // Open: it is still evaluated and counted, as shadow, and decides nothing.
    const demoted = rules.evaluate(input({ amount: 500 }));
    expect([demoted.outcome, demoted.hits, demoted.shadowHits.map((h) => h.id)]).toEqual([null, [], ['wild']]);
    for (let i = 1; i < 100; i++) rules.evaluate(input({ amount: i < 10 ? 500 : 5 }));
    // 10 hits in that window: within its share again.
    expect(changes.at(-1)).toEqual(['wild', false, 0.1]);
    expect(rules.evaluate(input({ amount: 500 })).outcome).toBe('block');
  });

  it('applies the configured default to rules without their own share, and never to shadow rules', () => {
    const rules = setWith({ defaultMaxHitRate: 0.5, breakerWindow: 10 }, rule('a', 'true', 'review', 1), rule('s', 'true', 'review', 1, '    mode: shadow\n'));
    for (let i = 0; i < 10; i++) rules.evaluate(input({}));
    expect(rules.openBreakers()).toEqual(['a']);
  });
});
