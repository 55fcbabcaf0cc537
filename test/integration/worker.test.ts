// The worker against real Kafka and Redis: one decision per valid event, one dead letter
// with its reason per malformed event, offsets committed after the outputs.
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import { DLQ_HEADERS } from '../../src/kafka/dlq.js';
import { at, tx } from '../helpers/events.js';
import { closePollingAdmin, committedOffsets, consumeAll, produce } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

const T = new Date(Date.now() - 3_600_000).toISOString();

describe('detector worker', () => {
  afterAll(() => closePollingAdmin());
  it('decides every valid event once and dead-letters every malformed one with its reason', async () => {
    const world = testWorld();
    await world.setup();
    const valid = Array.from({ length: 300 }, (_, i) => tx({ accountId: `acct-${i % 40}`, cardId: `card-${i % 40}`, amount: 20 + (i % 7), timestamp: at(T, i * 1000) }));
    // Card testing: a burst of small payments on one card.
    const burst = Array.from({ length: 8 }, (_, i) => tx({ accountId: 'victim', cardId: 'victim-card', amount: 1.5, timestamp: at(T, 400_000 + i * 10_000) }));
    const malformed: { value: string | null; reason: string }[] = [
      { value: '{"transactionId": "cut', reason: 'FD_EVENT_NOT_JSON' },
      { value: JSON.stringify({ ...tx(), amount: 'a lot' }), reason: 'FD_EVENT_SCHEMA' },
      { value: JSON.stringify({ ...tx(), accountId: undefined }), reason: 'FD_EVENT_SCHEMA' },
      { value: JSON.stringify(tx({ note: 'x'.repeat(70_000) })), reason: 'FD_EVENT_TOO_LARGE' },
      { value: null, reason: 'FD_EVENT_EMPTY' },
    ];
    const messages = [
      ...valid.slice(0, 150).map((e) => ({ key: e.accountId, value: JSON.stringify(e) })),
      ...malformed.map((m, i) => ({ key: `bad-${i}`, value: m.value })),
      ...[...valid.slice(150), ...burst].map((e) => ({ key: e.accountId, value: JSON.stringify(e) })),
    ];
    await produce(world.config.TOPIC_TRANSACTIONS, messages);
    const running = await world.start();
    try {
      const validCount = valid.length + burst.length;
      const decisions = await consumeAll(world.config.TOPIC_DECISIONS, validCount, 60_000);
      const dlq = await consumeAll(world.config.TOPIC_DLQ, malformed.length, 30_000);
      const decided = decisions.map((m) => JSON.parse((m.value as Buffer).toString()) as Decision);
      expect(decided).toHaveLength(validCount);
      expect(new Set(decided.map((d) => d.transactionId)).size).toBe(validCount);
      expect(dlq).toHaveLength(malformed.length);
      expect(dlq.map((m) => m.headers[DLQ_HEADERS.code]).sort()).toEqual(malformed.map((m) => m.reason).sort());
      for (const m of dlq) {
        expect(m.headers[DLQ_HEADERS.topic]).toBe(world.config.TOPIC_TRANSACTIONS);
        expect(m.headers[DLQ_HEADERS.offset]).toMatch(/^\d+$/);
        expect(m.headers[DLQ_HEADERS.message]?.length).toBeGreaterThan(0);
      }
      // The original bytes travel unchanged.
      const notJson = dlq.find((m) => m.headers[DLQ_HEADERS.code] === 'FD_EVENT_NOT_JSON');
      expect(notJson?.value?.toString()).toBe('{"transactionId": "cut');
      // The card-testing burst raised alerts, with the rule and its reason.
      const alerts = await consumeAll(world.config.TOPIC_ALERTS, 1, 10_000);
      const alerted = alerts.map((m) => JSON.parse((m.value as Buffer).toString()) as Decision);
      expect(alerted.some((d) => d.accountId === 'victim' && d.ruleHits.some((h) => h.id === 'card-testing-burst'))).toBe(true);
      expect(alerted.every((d) => d.decision !== 'allow')).toBe(true);
      // consumed = decided + dead-lettered, and offsets are committed to the end.
      await expect.poll(async () => [...(await committedOffsets(world.config.KAFKA_GROUP_ID, world.config.TOPIC_TRANSACTIONS)).values()].reduce((a, b) => a + b, 0n), { timeout: 10_000 }).toBe(BigInt(messages.length));
      const metrics = await running.registry.getSingleMetricAsString('fraud_detector_events_total');
      expect(metrics).toMatch(/outcome="dead_letter"} 5/);
    } finally {
      await running.stop();
    }
  });
});
