// Label-fed features live: the worker reads `fraud-labels` when a feature needs it, applies
// each label once, dead-letters a malformed one, and later transactions see the labels.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import { DLQ_HEADERS } from '../../src/kafka/dlq.js';
import { tx } from '../helpers/events.js';
import { closePollingAdmin, committedOffsets, consumeAll, produce } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

describe('worker with label-fed features', () => {
  afterAll(() => closePollingAdmin());

  it('applies labels from the labels topic to the features of later transactions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-labels-'));
    const featuresFile = join(dir, 'features.yaml');
    writeFileSync(featuresFile, [
      'features:',
      '  - { entity: account, aggregation: count, window: 10m }',
      '  - { entity: account, aggregation: count, window: 1h }',
      '  - { entity: account, aggregation: sum, window: 1h }',
      '  - { entity: account, aggregation: count, window: 1d }',
      '  - { entity: account, aggregation: sum, window: 1d }',
      '  - { entity: account, aggregation: mean, window: 30d }',
      '  - { entity: account, aggregation: std, window: 30d }',
      '  - { entity: account, aggregation: amount_ratio, window: 30d }',
      '  - { entity: card, aggregation: count, window: 1h }',
      '  - { entity: device, aggregation: count, window: 1d }',
      '  - { entity: merchant, aggregation: count, window: 1h }',
      '  - { entity: merchant, aggregation: labelled_count, window: 7d }',
      '  - { entity: merchant, aggregation: fraud_rate, window: 7d }',
      '  - { entity: account, aggregation: fraud_count, window: 30d }',
      '',
    ].join('\n'));
    const world = testWorld({ FEATURES_FILE: featuresFile });
    await world.setup();
    const running = await world.start();
    try {
      const T = Date.now() - 2 * 3_600_000;
      const labels = [
        { transactionId: 'old-1', accountId: 'mule', merchantId: 'shady', label: 'fraud', timestamp: T },
        { transactionId: 'old-2', accountId: 'other', merchantId: 'shady', label: 'legit', timestamp: T + 1000 },
        { transactionId: 'old-1', accountId: 'mule', merchantId: 'shady', label: 'fraud', timestamp: T }, // redelivered
      ];
      await produce(world.config.TOPIC_LABELS, [...labels.map((l) => ({ key: l.accountId, value: JSON.stringify(l) })), { key: 'x', value: '{"transactionId": "no-label"}' }]);
      // Labels have a group of their own, so they never take a share of the transactions' partitions.
      const committed = async (): Promise<bigint> => [...(await committedOffsets(`${world.config.KAFKA_GROUP_ID}-labels`, world.config.TOPIC_LABELS)).values()].reduce((a, b) => a + (b > 0n ? b : 0n), 0n);
      await expect.poll(committed, { timeout: 30_000 }).toBe(4n);

      const later = tx({ transactionId: 'now-1', accountId: 'mule', merchantId: 'shady', timestamp: new Date(T + 3_600_000).toISOString() });
      await produce(world.config.TOPIC_TRANSACTIONS, [{ key: later.accountId, value: JSON.stringify(later) }]);
      const [decision] = (await consumeAll(world.config.TOPIC_DECISIONS, 1, 30_000)).map((m) => JSON.parse((m.value as Buffer).toString()) as Decision);
      expect(decision?.features.merchant).toMatchObject({ labelled_count_7d: 2, fraud_rate_7d: 0.5 });
      expect(decision?.features.account?.fraud_count_30d).toBe(1);

      const dlq = await consumeAll(world.config.TOPIC_DLQ, 1, 10_000);
      expect(dlq.map((m) => [m.headers[DLQ_HEADERS.code], m.headers[DLQ_HEADERS.topic]])).toEqual([['FD_EVENT_SCHEMA', world.config.TOPIC_LABELS]]);
      expect(await running.registry.getSingleMetricAsString('fraud_detector_labels_total')).toMatch(/outcome="valid"} 3/);
    } finally {
      await running.stop();
    }
  });
});

describe('two workers with label-fed features', () => {
  afterAll(() => closePollingAdmin());

  it('each hold transactions partitions, and each label is applied once across them', async () => {
    // The default feature set reads fraud-labels (merchant.fraud_count_7d, fraud_rate_7d).
    const world = testWorld({ TRANSACTIONS_PARTITIONS: '4' });
    await world.setup();
    const T = Date.now() - 2 * 3_600_000;
    const labels = Array.from({ length: 40 }, (_, i) => ({ transactionId: `old-${i}`, accountId: `acct-${i}`, merchantId: 'shop', label: i % 4 === 0 ? 'fraud' : 'legit', timestamp: T + i }));
    await produce(world.config.TOPIC_LABELS, labels.map((l) => ({ key: l.accountId, value: JSON.stringify(l) })));
    const a = await world.start();
    const b = await world.start();
    const partitions = [new Set<number>(), new Set<number>()];
    a.worker.onBatch((r) => partitions[0]?.add(r.partition));
    b.worker.onBatch((r) => partitions[1]?.add(r.partition));
    try {
      const labelsCommitted = async (): Promise<bigint> => [...(await committedOffsets(`${world.config.KAFKA_GROUP_ID}-labels`, world.config.TOPIC_LABELS)).values()].reduce((x, y) => x + (y > 0n ? y : 0n), 0n);
      await expect.poll(labelsCommitted, { timeout: 60_000 }).toBe(40n);
      // Keyed by account, over every partition of the transactions topic; in rounds, until the
      // group has settled with both members (a cooperative rebalance takes a few seconds).
      const committed = async (): Promise<bigint> => [...(await committedOffsets(world.config.KAFKA_GROUP_ID, world.config.TOPIC_TRANSACTIONS)).values()].reduce((x, y) => x + (y > 0n ? y : 0n), 0n);
      let sent = 0;
      const until = Date.now() + 45_000;
      while (sent === 0 || (partitions.some((p) => p.size === 0) && Date.now() < until)) {
        if (sent > 0) await new Promise((r) => setTimeout(r, 500));
        const later = Array.from({ length: 50 }, (_, k) => sent + k).map((i) => tx({ transactionId: `now-${i}`, accountId: `acct-${i % 50}`, merchantId: 'shop', timestamp: new Date(T + 3_600_000 + i).toISOString() }));
        await produce(world.config.TOPIC_TRANSACTIONS, later.map((e) => ({ key: e.accountId, value: JSON.stringify(e) })));
        sent += later.length;
        await expect.poll(committed, { timeout: 60_000 }).toBe(BigInt(sent));
      }
      expect(partitions[0]?.size).toBeGreaterThan(0);
      expect(partitions[1]?.size).toBeGreaterThan(0);
      expect(new Set([...(partitions[0] ?? []), ...(partitions[1] ?? [])]).size).toBe(4);
      const applied = async (running: typeof a): Promise<number> => Number(/outcome="valid"} (\d+)/.exec(await running.registry.getSingleMetricAsString('fraud_detector_labels_total'))?.[1] ?? 0);
      expect((await applied(a)) + (await applied(b))).toBe(40);
      const decisions = (await consumeAll(world.config.TOPIC_DECISIONS, sent, 30_000)).map((m) => JSON.parse((m.value as Buffer).toString()) as Decision);
      expect(new Set(decisions.map((d) => d.transactionId)).size).toBe(sent);
      expect(decisions.every((d) => d.features.merchant?.fraud_count_7d === 10 && d.features.merchant.fraud_rate_7d === 0.25)).toBe(true);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
