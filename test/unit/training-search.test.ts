// `train --search`'s pieces: the candidate set is generated from the aggregation table for the
// entities the history has, a selected subset is written as a feature file that loads back to
// the model's features in order, and search.py's selection logic (training/test_search.py, run
// with the training venv's python).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGGREGATION_NAMES, AGGREGATIONS } from '../../src/features/aggregations.js';
import { candidateInputs, DEFAULT_CANDIDATE_OPTIONS, entitiesPresent } from '../../src/features/candidates.js';
import { DEFAULT_FEATURE_INPUTS, DEFAULT_FEATURE_SET, EVENT_FEATURES, featureName } from '../../src/features/definitions.js';
import { loadFeatureInputs, loadFeatureSet, parseFeatureSet } from '../../src/features/load.js';
import { featureFileText } from '../../src/features/write.js';
import { candidateSet, writeSelected } from '../../src/training/search.js';
import { toParsedTransaction } from '../../src/contract/transaction.js';
import { tx } from '../helpers/events.js';

const ALL = ['account', 'merchant', 'card', 'device', 'ip'] as const;

describe('search candidates', () => {
  it('are the entities present in the events, in the table order', () => {
    expect(entitiesPresent([{ accountId: 'a', merchantId: 'm' }, { accountId: 'b', ipAddress: '1.2.3.4', deviceId: null }])).toEqual(['account', 'merchant', 'ip']);
  });

  it('cover every aggregation of the table, label-fed ones only for the entities labels name', () => {
    const inputs = candidateInputs(ALL);
    const names = new Set(inputs.map(featureName));
    for (const aggregation of AGGREGATION_NAMES) {
      const kind = AGGREGATIONS[aggregation];
      const of = inputs.filter((i) => i.aggregation === aggregation);
      expect(of.length, aggregation).toBeGreaterThan(0);
      if (kind.source === 'labels') expect(new Set(of.map((i) => i.entity))).toEqual(new Set(['account', 'merchant']));
    }
    // The handbook's features: customer counts and mean amounts over 1, 7 and 30 days, the terminal's frauds and fraud rate over the same.
    for (const w of ['1d', '7d', '30d']) {
      for (const n of [`account.count_${w}`, `account.mean_${w}`, `merchant.fraud_count_${w}`, `merchant.fraud_rate_${w}`]) expect(names.has(n), n).toBe(true);
    }
    expect(names.has('account.seconds_since_last')).toBe(false);
    expect(names.has('device.seconds_since_last')).toBe(true);
    expect(names.has('device.distinct_card_1d')).toBe(true);
    expect(names.size).toBe(inputs.length);
    expect(inputs.length).toBe(182);
  });

  it('only for the entities given, and only the windows asked for', () => {
    const inputs = candidateInputs(['account', 'merchant'], { ...DEFAULT_CANDIDATE_OPTIONS, windows: ['1d'], distinctWindows: [] });
    expect(inputs.every((i) => i.entity === 'account' || i.entity === 'merchant')).toBe(true);
    expect(inputs.filter((i) => i.aggregation === 'count').map(featureName)).toEqual(['account.count_1d', 'merchant.count_1d']);
    expect(inputs.some((i) => i.aggregation === 'distinct')).toBe(false);
  });

  it('are a valid feature file, whose set has every candidate in order after the event features', () => {
    const inputs = candidateInputs(ALL);
    const set = parseFeatureSet('candidates.yaml', featureFileText(inputs, ['a comment']));
    expect(set.names).toEqual([...EVENT_FEATURES, ...inputs.map(featureName)]);
  });
});

describe('the candidates of a search whose rules read the served feature file', () => {
  // A rule reads a feature only FEATURES_FILE defines (a filtered one with its own name): the
  // search must offer it, as `run` serves it, or the rules cannot compile against any set.
  const dir = mkdtempSync(join(tmpdir(), 'fd-candidates-'));
  const served = join(dir, 'served.features.yaml');
  writeFileSync(served, "features:\n  - { entity: card, aggregation: count, window: 1h, name: small_count_1h, filter: 'event.amount < 5.0' }\n  - { entity: account, aggregation: count, window: 1h }\n");
  const rules = join(dir, 'rules');
  mkdirSync(rules);
  writeFileSync(join(rules, 'small.yaml'), 'rules:\n  - id: card-testing\n    expression: features.card.small_count_1h >= 3.0\n    action: review\n');
  const history = { transactions: [{ lineNo: 1, tx: toParsedTransaction(tx({ transactionId: 't1', cardId: 'c1' })) }], labels: [] };
  const options = { ...DEFAULT_CANDIDATE_OPTIONS, windows: ['1d'], labelWindows: [], distinctWindows: [] };

  it('keeps its feature in every set, with its own definition', () => {
    const { inputs, set, ruleFeatures } = candidateSet(history, options, rules, join(dir, 'candidates.yaml'), loadFeatureInputs(served));
    expect(ruleFeatures).toEqual(['card.small_count_1h']);
    expect(set.names).toContain('card.small_count_1h');
    expect(inputs.find((i) => featureName(i) === 'card.small_count_1h')?.filter).toBe('event.amount < 5.0');
  });

  it('is refused without the served file (the rule reads a feature no candidate has)', () => {
    expect(() => candidateSet(history, options, rules, join(dir, 'candidates-2.yaml'))).toThrow(/small_count_1h/);
  });
});

describe('the selected set', () => {
  it('is written beside the model and loads back to the model features, in order', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fd-selected-')), 'mine.features.yaml');
    const model = [...EVENT_FEATURES, 'account.count_7d', 'merchant.fraud_rate_30d', 'device.distinct_card_1d', 'ip.seconds_since_last'];
    const set = writeSelected(model, candidateInputs(ALL), file);
    expect(set.names).toEqual(model);
    expect(loadFeatureSet(file).names).toEqual(model);
  });

  it('keeps a filter, its quotes and its name', () => {
    const set = parseFeatureSet('default-again.yaml', featureFileText(DEFAULT_FEATURE_INPUTS));
    expect(set.names).toEqual(DEFAULT_FEATURE_SET.names);
    expect(set.filters.map((f) => f.expression)).toEqual(["has(event.channel) && event.channel == 'ecom'"]);
  });

  it('refuses a feature that is not a candidate', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fd-selected-')), 'mine.features.yaml');
    expect(() => writeSelected([...EVENT_FEATURES, 'account.count_5d'], candidateInputs(ALL), file)).toThrow(/account.count_5d, which is not a candidate/);
  });
});

describe('search.py selection logic', () => {
  it('passes training/test_search.py', () => {
    const python = resolve('.local/training-venv/bin/python');
    expect(existsSync(python), 'the training venv: scripts/training-venv.sh').toBe(true);
    const run = spawnSync(python, ['test_search.py'], { cwd: 'training', encoding: 'utf8' });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout.match(/^ok /gm)).toHaveLength(6);
  }, 120_000);
});
