// Training features equal serving features: 1,000 simulated transactions (with labels known
// before them) go through `features export` as training rows, and through the worker's path
// (Kafka, the Redis store on its thread, the pipeline, the decisions topic); every feature of
// every row is the same float the model would see. For the built-in set, and for a set as
// `train --search` writes it beside its model (candidates of every kind: label-fed, distinct
// counts, time since the last payment, extremes, 1h to 30d windows).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import { candidateInputs } from '../../src/features/candidates.js';
import { DEFAULT_FEATURE_INPUTS, DEFAULT_FEATURE_SET, EVENT_FEATURES, featureName } from '../../src/features/definitions.js';
import { featuresOfRules, writeSelected } from '../../src/training/search.js';
import { DEFAULT_SIMULATOR_OPTIONS, TransactionSimulator } from '../../src/simulate/simulator.js';
import { configEnv, runCli } from '../helpers/cli.js';
import { closePollingAdmin, committedOffsets, consumeAll, produce } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

describe('training and serving features', () => {
  afterAll(() => closePollingAdmin());

  it('are identical for 1,000 events, label-fed features included', async () => {
    await expectParity(DEFAULT_FEATURE_SET.names);
  });

  it('are identical for a searched feature set written beside its model', async () => {
    const inputs = [...candidateInputs(['account', 'merchant', 'card', 'device', 'ip'])];
    const named = new Set(inputs.map(featureName));
    inputs.push(...DEFAULT_FEATURE_INPUTS.filter((i) => !named.has(featureName(i))));
    // The shipped rules run on the served set too, so a searched set keeps the features they read.
    const ruleFeatures = featuresOfRules('rules', inputs);
    const picked = ['account.count_1h', 'account.mean_30d', 'account.fraud_count_30d', 'merchant.fraud_rate_1d', 'merchant.fraud_count_7d', 'merchant.labelled_count_30d', 'merchant.std_7d', 'card.max_1d', 'card.min_1h', 'device.distinct_card_1d', 'ip.distinct_account_1d', 'device.seconds_since_last', 'ip.amount_ratio_7d', 'merchant.sum_1h'];
    const order = inputs.map(featureName).filter((n) => ruleFeatures.includes(n) || picked.includes(n));
    const file = join(mkdtempSync(join(tmpdir(), 'fd-searched-')), 'searched.features.yaml');
    const set = writeSelected([...EVENT_FEATURES, ...order], inputs, file);
    expect(set.names).toEqual(expect.arrayContaining([...ruleFeatures, ...picked]));
    await expectParity(set.names, file);
  });
});

/** The export of the history and the worker's decisions, with the feature file when given (else the built-in set), have the same features. */
async function expectParity(names: readonly string[], featuresFile?: string): Promise<void> {
  const sim = new TransactionSimulator({ ...DEFAULT_SIMULATOR_OPTIONS, seed: 99, accounts: 60, merchants: 30, fraudRate: 0.03 });
  const start = Date.now() - 3 * 3_600_000;
  const txs = Array.from({ length: 1000 }, (_, i) => sim.next(start + i * 9_000).event);
  // Labels of earlier payments at these merchants, all known before the first transaction.
  const merchants = [...new Set(txs.map((t) => t.merchantId as string))];
  const labels = merchants.flatMap((m, i) => Array.from({ length: 1 + (i % 4) }, (_, k) => ({ transactionId: `old-${i}-${k}`, accountId: `old-${k}`, merchantId: m, label: k % 2 === 0 ? 'fraud' : 'legit', timestamp: new Date(start - 86_400_000 + i * 1000 + k).toISOString() })));
  const dir = mkdtempSync(join(tmpdir(), 'fd-parity-'));
  writeFileSync(join(dir, 'tx.jsonl'), txs.map((t) => JSON.stringify(t)).join('\n') + '\n');
  writeFileSync(join(dir, 'labels.jsonl'), labels.map((l) => JSON.stringify(l)).join('\n') + '\n');

  // One partition, in time order: the worker sees the history in the order the export replays it.
  const world = testWorld({ TRANSACTIONS_PARTITIONS: '1', ALLOWED_LATENESS_MS: '900000', ...(featuresFile ? { FEATURES_FILE: featuresFile } : {}) });
  await world.setup();
  const running = await world.start();
  try {
    await produce(world.config.TOPIC_LABELS, labels.map((l) => ({ key: l.accountId, value: JSON.stringify(l) })));
    const committed = async (): Promise<bigint> => [...(await committedOffsets(`${world.config.KAFKA_GROUP_ID}-labels`, world.config.TOPIC_LABELS)).values()].reduce((a, b) => a + (b > 0n ? b : 0n), 0n);
    await expect.poll(committed, { timeout: 30_000 }).toBe(BigInt(labels.length));
    await produce(world.config.TOPIC_TRANSACTIONS, txs.map((t) => ({ key: t.accountId, value: JSON.stringify(t) })));
    const decisions = new Map((await consumeAll(world.config.TOPIC_DECISIONS, txs.length, 60_000)).map((m) => {
      const d = JSON.parse((m.value as Buffer).toString()) as Decision;
      return [d.transactionId, d];
    }));

    const exported = runCli(['features', 'export', '--transactions', join(dir, 'tx.jsonl'), '--labels', join(dir, 'labels.jsonl'), '--out', join(dir, 'f.csv')], { ...configEnv(world.config), LOG_LEVEL: 'warn' });
    expect(await exported.exited).toBe(0);
    const [header, ...rows] = readFileSync(join(dir, 'f.csv'), 'utf8').trim().split('\n');
    expect(header?.split(',').slice(4, -1)).toEqual(names);
    expect(rows).toHaveLength(1000);
    let nonZeroLabelFeatures = 0;
    for (const row of rows) {
      const cells = row.split(',');
      const served = decisions.get(cells[0] as string);
      expect(served, `decision for ${cells[0]}`).toBeDefined();
      const servedRow = names.map((name) => {
        const [group, key] = name.split('.') as [string, string];
        return Math.fround(served?.features[group]?.[key] ?? NaN);
      });
      expect(cells.slice(4, 4 + names.length).map(Number)).toEqual(servedRow);
      if ((served?.features.merchant?.fraud_count_7d ?? 0) > 0) nonZeroLabelFeatures++;
    }
    // The comparison covered the label-fed features, not only zeros.
    expect(nonZeroLabelFeatures).toBeGreaterThan(500);
  } finally {
    await running.stop();
  }
}
