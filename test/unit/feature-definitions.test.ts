// Feature definitions from a file: the shipped file is the built-in set, and a bad file is
// refused with file, line and cause.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPipeline, featureSetFor, memoryStore } from '../../src/cli/build.js';
import { loadConfig } from '../../src/config.js';
import { FeatureDefinitionError } from '../../src/contract/errors.js';
import { parseTransaction, toParsedTransaction } from '../../src/contract/transaction.js';
import { buildFeatureSet, DEFAULT_FEATURE_SET, type FeatureInput } from '../../src/features/definitions.js';
import { loadFeatureSet, parseFeatureSet } from '../../src/features/load.js';
import { windowSpec } from '../../src/features/windows.js';
import { processBatch } from '../../src/pipeline/process-batch.js';
import { computeFeatures, NO_PREVIOUS_EVENT_SECONDS } from '../../src/features/engine.js';
import { EVENT_LIMITS, tx } from '../helpers/events.js';

function refusal(text: string): FeatureDefinitionError {
  try {
    parseFeatureSet('f.yaml', text);
  } catch (err) {
    if (err instanceof FeatureDefinitionError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('feature definitions file', () => {
  it('ships the built-in set as features/default.yaml', () => {
    const set = loadFeatureSet('features/default.yaml');
    expect(set.names).toEqual(DEFAULT_FEATURE_SET.names);
    expect(set.entities).toEqual(DEFAULT_FEATURE_SET.entities);
  });

  it('ships an example of every kind of feature that the shipped rules run on', () => {
    const set = loadFeatureSet('features/examples.yaml');
    const kinds = new Set(set.windowed.map((d) => d.aggregation));
    expect([...kinds].sort()).toEqual(['amount_ratio', 'count', 'distinct', 'fraud_rate', 'max', 'mean', 'min', 'seconds_since_last', 'std', 'sum']);
    expect(set.filters.map((f) => f.expression)).toHaveLength(2);
    expect(set.entities.map((e) => `${e.entity}:${e.field}`)).toContain('bin:cardBin');
    const config = loadConfig({ FEATURES_FILE: 'features/examples.yaml' });
    expect(buildPipeline(config, memoryStore(config), 'all', featureSetFor(config)).deps.rules().rules.length).toBeGreaterThan(0);
  });

  it.each([
    ['an unknown entity', 'features:\n  - entity: shop\n    aggregation: count\n    window: 1h\n', 2, /feature 1: entity: /],
    ['an unknown aggregation', 'features:\n  - entity: account\n    aggregation: median\n    window: 1h\n', 3, /feature 1: aggregation: /],
    ['a window in seconds', 'features:\n  - { entity: account, aggregation: count, window: 1h }\n  - { entity: card, aggregation: count, window: 90s }\n', 3, /feature 2: window: a whole number of minutes/],
    ['a window beyond 90 days', 'features:\n  - { entity: account, aggregation: sum, window: 120d }\n', 2, /between 1m and 90d/],
    ['a feature defined twice', 'features:\n  - { entity: account, aggregation: sum, window: 1h }\n  - { entity: account, aggregation: sum, window: 1h }\n', 3, /account.sum_1h is defined twice \(first as feature 1\)/],
    ['an unknown key', 'features:\n  - { entity: account, aggregation: sum, window: 1h, filters: x }\n', 2, /Unrecognized key/],
    ['an empty list', 'features: []\n', 1, /at least one feature/],
    ['broken YAML', 'features:\n  - { entity: account,\n', 3, /YAML/],
    ['a window on seconds_since_last', 'features:\n  - { entity: device, aggregation: seconds_since_last, window: 1h }\n', 2, /feature 1: seconds_since_last takes no window/],
    ['no window on count', 'features:\n  - { entity: device, aggregation: count }\n', 2, /feature 1: window: required/],
    ['account.seconds_since_last again', 'features:\n  - { entity: account, aggregation: seconds_since_last }\n', 2, /account.seconds_since_last is always in the set/],
    ['a list instead of a mapping', '- { entity: account, aggregation: sum, window: 1h }\n', 1, /expected a mapping with `features:`/],
    ['a field on a built-in entity', 'features:\n  - entity: card\n    field: cardBin\n    aggregation: count\n    window: 1h\n', 3, /field: card is keyed by cardId/],
    ['the entity name event', 'features:\n  - { entity: event, field: amount, aggregation: count, window: 1h }\n', 2, /entity: event is the name of the event's own features/],
    ['one entity keyed by two fields', 'features:\n  - { entity: bin, field: cardBin, aggregation: count, window: 1h }\n  - { entity: bin, field: bin, aggregation: count, window: 1d }\n', 3, /entity bin is keyed by cardBin in an earlier feature, not bin/],
    ['distinct without of', 'features:\n  - entity: device\n    aggregation: distinct\n    window: 1d\n', 3, /distinct needs `of`/],
    ['of on a count', 'features:\n  - entity: device\n    aggregation: count\n    of: card\n    window: 1d\n', 4, /of: only a distinct count takes `of`/],
    ['a limit beyond 1000', 'features:\n  - { entity: device, aggregation: distinct, of: card, window: 1d, limit: 5000 }\n', 2, /limit: Too big/],
    ['a distinct count of the entity itself', 'features:\n  - { entity: card, aggregation: distinct, of: cardId, window: 1d }\n', 2, /of: cardId is the entity's own key/],
    ['a filter that does not parse', "features:\n  - entity: card\n    aggregation: count\n    window: 1h\n    name: small_count_1h\n    filter: \"event.amount <\"\n", 6, /feature 1: filter: Unexpected token/],
    ['a filter that reads features', "features:\n  - { entity: card, aggregation: count, window: 1h, name: x_1h, filter: 'features.card.count_1h > 1.0' }\n", 2, /Unknown variable: features \(a filter sees only `event`\)/],
    ['a filter that is not a bool', "features:\n  - { entity: card, aggregation: sum, window: 1h, name: x_1h, filter: 'size(event)' }\n", 2, /filter: must be a bool, it is int/],
    ['a filter without a name', "features:\n  - entity: card\n    aggregation: count\n    window: 1h\n    filter: \"event.channel == 'ecom'\"\n", 5, /a filtered feature needs a `name` \(for example small_count_1h\)/],
    ['a filter on seconds_since_last', "features:\n  - { entity: card, aggregation: seconds_since_last, name: x, filter: 'event.amount < 5.0' }\n", 2, /seconds_since_last takes no filter/],
    ['a filter on a label aggregation', "features:\n  - { entity: merchant, aggregation: fraud_rate, window: 7d, name: x_7d, filter: 'event.amount < 5.0' }\n", 2, /fraud_rate takes no filter/],
    ['a name with a dot', 'features:\n  - { entity: card, aggregation: count, window: 1h, name: card.count }\n', 2, /name: letters, digits and _/],
  ])('refuses %s with its line', (_, text, line, cause) => {
    const err = refusal(text);
    expect(err.location).toMatchObject({ file: 'f.yaml', line });
    expect(err.message).toMatch(cause);
    expect(err.code).toBe('FD_FEATURE_DEFINITION');
  });

  // One set of checks (definitions.ts): a set built in code is refused for the same reason as a file.
  it.each<[string, FeatureInput[], RegExp]>([
    ['a label aggregation of a device', [{ entity: 'device', aggregation: 'fraud_rate', window: '7d' }], /fraud_rate is computed from labels, which name accounts and merchants, not devices/],
    ['a filter without a name', [{ entity: 'card', aggregation: 'count', window: '1h', filter: 'event.amount < 5.0' }], /a filtered feature needs a `name`/],
    ['one entity keyed by two fields', [{ entity: 'bin', field: 'cardBin', aggregation: 'count', window: '1h' }, { entity: 'bin', field: 'bin', aggregation: 'count', window: '1d' }], /entity bin is keyed by cardBin in an earlier feature, not bin/],
    ['a filter that does not parse', [{ entity: 'card', aggregation: 'count', window: '1h', name: 'x_1h', filter: 'event.amount <' }], /Unexpected token/],
    ['a feature defined twice', [{ entity: 'account', aggregation: 'sum', window: '1h' }, { entity: 'account', aggregation: 'sum', window: '1h' }], /account.sum_1h is defined twice \(first as feature 1\)/],
  ])('refuses %s in code as in a file', (_, inputs, cause) => {
    expect(() => buildFeatureSet(inputs)).toThrow(cause);
    const yaml = `features:\n${inputs.map((i) => `  - ${JSON.stringify(i)}\n`).join('')}`;
    expect(refusal(yaml).message).toMatch(cause);
  });

  it('points at the column of a filter\'s error', () => {
    const err = refusal("features:\n  - { entity: card, aggregation: count, window: 1h, name: x_1h, filter: 'event.amount < 5.0 &&' }\n");
    // The expression starts at column 74, after its quote; the parser stops at its end, 21 characters in.
    expect(err.location).toMatchObject({ line: 2, column: 95 });
    expect(err.message).toMatch(/Unexpected token: EOF/);
  });

  it('refuses a file it cannot read', () => {
    expect(() => loadFeatureSet('/nonexistent/features.yaml')).toThrow(/cannot read the feature definitions/);
  });

  it('gives windows no width divides into 30 buckets the widest width that divides them', () => {
    expect(windowSpec('61m')).toEqual({ name: '61m', bucketMs: 60_000, buckets: 61 });
    expect(windowSpec('45d')).toEqual({ name: '45d', bucketMs: 86_400_000, buckets: 45 });
  });

  it('drives the pipeline: rules see exactly the defined features', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-features-'));
    writeFileSync(join(dir, 'features.yaml'), 'features:\n  - { entity: merchant, aggregation: count, window: 2h }\n');
    const rulesDir = join(dir, 'rules');
    mkdirSync(rulesDir);
    writeFileSync(join(rulesDir, 'r.yaml'), 'rules:\n  - id: busy-merchant\n    expression: features.merchant.count_2h >= 3.0\n    action: review\n');
    const config = loadConfig({ FEATURES_FILE: join(dir, 'features.yaml'), RULES_DIR: rulesDir });
    const pipeline = buildPipeline(config, memoryStore(config), 'all', featureSetFor(config));
    const t = Date.parse('2026-05-01T08:00:00Z');
    const raw = [0, 1, 2].map((i) => Buffer.from(JSON.stringify(tx({ accountId: `a${i}`, merchantId: 'm1', timestamp: t + i * 60_000 }))));
    const out = await processBatch(raw, (b) => parseTransaction(b, EVENT_LIMITS), pipeline.deps);
    expect(Object.keys(out.decided[0]?.decision?.features ?? {}).sort()).toEqual(['account', 'event', 'merchant']);
    expect(out.decided[0]?.decision?.features.merchant).toEqual({ count_2h: 1 });
    expect(out.decided.map((d) => d.outcome)).toEqual(['allow', 'allow', 'review']);
  });

  it('computes min, max, distinct counts, filtered windows, IP and custom-field entities, and rules read them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-kinds-'));
    writeFileSync(
      join(dir, 'features.yaml'),
      [
        'features:',
        '  - { entity: account, aggregation: max, window: 30d }',
        '  - { entity: account, aggregation: min, window: 30d }',
        '  - { entity: device, aggregation: distinct, of: card, window: 1d }',
        '  - { entity: card, aggregation: distinct, of: country, window: 1d, limit: 2 }',
        '  - entity: card',
        '    aggregation: count',
        '    window: 1h',
        '    name: small_count_1h',
        '    filter: "event.amount < 5.0"',
        '  - { entity: ip, aggregation: count, window: 1h }',
        '  - { entity: bin, field: cardBin, aggregation: count, window: 1d }',
        '',
      ].join('\n'),
    );
    const rulesDir = join(dir, 'rules');
    mkdirSync(rulesDir);
    writeFileSync(join(rulesDir, 'r.yaml'), 'rules:\n  - id: many-cards-on-device\n    expression: features.device.distinct_card_1d >= 3.0\n    action: review\n');
    const config = loadConfig({ FEATURES_FILE: join(dir, 'features.yaml'), RULES_DIR: rulesDir });
    const set = featureSetFor(config);
    expect(set.names.slice(4)).toEqual(['account.max_30d', 'account.min_30d', 'device.distinct_card_1d', 'card.distinct_country_1d', 'card.small_count_1h', 'ip.count_1h', 'bin.count_1d']);
    const t = Date.parse('2026-05-01T08:00:00Z');
    const pay = (i: number, o: Partial<Parameters<typeof tx>[0]>): Buffer => Buffer.from(JSON.stringify(tx({ accountId: 'a', deviceId: 'd1', ipAddress: '10.0.0.7', cardBin: 412345, timestamp: t + i * 60_000, ...o })));
    const raw = [
      pay(0, { cardId: 'c1', amount: 2, country: 'FR' }),
      pay(1, { cardId: 'c1', amount: 40, country: 'DE' }),
      pay(2, { cardId: 'c2', amount: 3, country: 'FR', ipAddress: undefined }),
      pay(3, { cardId: 'c1', amount: 4.5, country: 'US', cardBin: undefined }),
      pay(4, { cardId: 'c3', amount: 900, country: 'FR' }),
    ];
    const pipeline = buildPipeline(config, memoryStore(config), 'all', set);
    const out = await processBatch(raw, (b) => parseTransaction(b, EVENT_LIMITS), pipeline.deps);
    const features = out.decided.map((d) => d.decision?.features ?? {});
    expect(features.map((f) => [f.account?.min_30d, f.account?.max_30d])).toEqual([[2, 2], [2, 40], [2, 40], [2, 40], [2, 900]]);
    expect(features.map((f) => f.device?.distinct_card_1d)).toEqual([1, 1, 2, 2, 3]);
    // Card c1 saw FR, DE and US: three countries, read at the limit of 2.
    expect(features.map((f) => f.card?.distinct_country_1d)).toEqual([1, 2, 1, 2, 1]);
    expect(features.map((f) => f.card?.small_count_1h)).toEqual([1, 1, 1, 2, 0]);
    expect(features.map((f) => f.ip?.count_1h)).toEqual([1, 2, 0, 3, 4]);
    expect(features.map((f) => f.bin?.count_1d)).toEqual([1, 2, 3, 0, 4]);
    expect(out.decided.map((d) => d.outcome)).toEqual(['allow', 'allow', 'allow', 'allow', 'review']);
  });

  it('gives seconds since the previous event of any entity', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-since-'));
    writeFileSync(join(dir, 'features.yaml'), 'features:\n  - { entity: device, aggregation: seconds_since_last }\n  - { entity: merchant, aggregation: count, window: 1h }\n');
    const config = loadConfig({ FEATURES_FILE: join(dir, 'features.yaml') });
    const set = featureSetFor(config);
    expect(set.names).toEqual(['event.amount', 'event.hour_of_day', 'event.day_of_week', 'account.seconds_since_last', 'device.seconds_since_last', 'merchant.count_1h']);
    const t = Date.parse('2026-05-01T08:00:00Z');
    const txs = [tx({ accountId: 'a', deviceId: 'd1', timestamp: t }), tx({ accountId: 'b', deviceId: 'd1', timestamp: t + 90_000 }), tx({ accountId: 'c', timestamp: t + 100_000 })];
    const f = await computeFeatures(txs.map((e) => toParsedTransaction(e)), set, memoryStore(config));
    expect([0, 1, 2].map((row) => f.named(row).device?.seconds_since_last)).toEqual([NO_PREVIOUS_EVENT_SECONDS, 90, NO_PREVIOUS_EVENT_SECONDS]);
  });
});
