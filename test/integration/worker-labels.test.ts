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
      const committed = async (): Promise<bigint> => [...(await committedOffsets(world.config.KAFKA_GROUP_ID, world.config.TOPIC_LABELS)).values()].reduce((a, b) => a + (b > 0n ? b : 0n), 0n);
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
