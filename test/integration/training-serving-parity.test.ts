// Training features equal serving features: 1,000 simulated transactions (with labels known
// before them) go through `features export` as training rows, and through the worker's path
// (Kafka, the Redis store on its thread, the pipeline, the decisions topic); every feature of
// every row is the same float the model would see.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import { DEFAULT_FEATURE_SET } from '../../src/features/definitions.js';
import { DEFAULT_SIMULATOR_OPTIONS, TransactionSimulator } from '../../src/simulate/simulator.js';
import { configEnv, runCli } from '../helpers/cli.js';
import { closePollingAdmin, committedOffsets, consumeAll, produce } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

describe('training and serving features', () => {
  afterAll(() => closePollingAdmin());

  it('are identical for 1,000 events, label-fed features included', async () => {
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
    const world = testWorld({ TRANSACTIONS_PARTITIONS: '1', ALLOWED_LATENESS_MS: '900000' });
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
      const names = DEFAULT_FEATURE_SET.names;
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
  });
});
