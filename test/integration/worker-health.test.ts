// Stuck is not healthy, against real Kafka and Redis: a fatal producer error ends the worker
// (not a retry loop), a worker whose batches make no progress fails its liveness while an idle
// one does not, and a dead letter too large for a Kafka record is cut to fit instead of
// holding its partition.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Producer } from '../../src/kafka/client.js';
import { DLQ_HEADERS } from '../../src/kafka/dlq.js';
import { tx } from '../helpers/events.js';
import { closePollingAdmin, committedOffsets, consumeAll, produce } from '../helpers/services.js';
import { delegating } from '../helpers/stores.js';
import { testWorld } from '../helpers/worker.js';

const now = (): string => new Date(Date.now() - 60_000).toISOString();

describe('worker liveness', () => {
  afterAll(() => closePollingAdmin());

  it('a fatal producer error stops the worker once, instead of retrying forever', async () => {
    const world = testWorld();
    await world.setup();
    let sends = 0;
    // What the client throws once librdkafka's idempotent producer has raised a fatal error.
    const fatalProducer = (p: Producer): Producer =>
      Object.assign(p, {
        sendBatch: () => {
          sends++;
          return Promise.reject(Object.assign(new Error('Local: Fatal error'), { code: -150, fatal: true, retriable: false }));
        },
      });
    const running = await world.start({ seams: { wrapProducer: fatalProducer } });
    const fatal: Error[] = [];
    running.worker.onFatal((err) => fatal.push(err));
    try {
      expect(running.worker.healthy()).toBe(true);
      await produce(world.config.TOPIC_TRANSACTIONS, [tx({ timestamp: now() })].map((e) => ({ key: e.accountId, value: JSON.stringify(e) })));
      await expect.poll(() => fatal.length, { timeout: 20_000 }).toBe(1);
      expect(fatal[0]?.message).toMatch(/produce failed: Local: Fatal error/);
      expect(running.worker.healthy()).toBe(false);
      expect(running.worker.ready()).toBe(false);
      // No retry loop: a few seconds on, the worker has not sent again.
      const after = sends;
      await new Promise((r) => setTimeout(r, 3000));
      expect(sends).toBeLessThanOrEqual(after + 1);
      expect(fatal).toHaveLength(1);
    } finally {
      await running.stop();
    }
  }, 60_000);

  it('fails liveness when transactions wait with no progress past the bound, and not when idle', async () => {
    const world = testWorld();
    await world.setup();
    let hang = false;
    const running = await world.start({
      worker: { stallMs: 2000 },
      wrapStore: (store) => delegating(store, { observe: (batches) => (hang ? new Promise(() => undefined) : store.observe(batches)) }),
    });
    try {
      // Idle past the bound: nothing waits, so nothing is stuck.
      await new Promise((r) => setTimeout(r, 3000));
      expect(running.worker.healthy()).toBe(true);
      // A batch that never finishes (a store call that never answers).
      hang = true;
      await produce(world.config.TOPIC_TRANSACTIONS, [tx({ timestamp: now() })].map((e) => ({ key: e.accountId, value: JSON.stringify(e) })));
      await expect.poll(() => running.worker.stalledForMs(), { timeout: 15_000 }).toBeGreaterThan(0);
      expect(running.worker.healthy()).toBe(true); // not yet past the bound
      await expect.poll(() => running.worker.healthy(), { timeout: 15_000 }).toBe(false);
      expect(running.worker.stalledForMs()).toBeGreaterThan(2000);
    } finally {
      hang = false;
      await Promise.race([running.stop(), new Promise((r) => setTimeout(r, 3000))]);
    }
  }, 60_000);

  it('cuts a dead letter too large for its topic to fit, with the original size and SHA-256, and goes on', async () => {
    const world = testWorld({ DLQ_MAX_VALUE_BYTES: '40000' });
    // The dead-letter topic takes records of at most 50,000 bytes: the 70 kB event itself would be refused.
    await world.setup({ [world.config.TOPIC_DLQ]: { 'max.message.bytes': '50000' } });
    const big = Buffer.from(JSON.stringify(tx({ timestamp: now(), note: randomBytes(52_000).toString('base64') })));
    expect(big.length).toBeGreaterThan(world.config.MAX_EVENT_BYTES);
    const after = Array.from({ length: 5 }, () => tx({ accountId: 'same', timestamp: now() }));
    const messages = [{ key: 'same', value: big }, ...after.map((e) => ({ key: 'same', value: JSON.stringify(e) }))];
    await produce(world.config.TOPIC_TRANSACTIONS, messages);
    const running = await world.start();
    try {
      const [dead] = await consumeAll(world.config.TOPIC_DLQ, 1, 30_000);
      expect(dead?.headers[DLQ_HEADERS.code]).toBe('FD_EVENT_TOO_LARGE');
      expect(dead?.headers[DLQ_HEADERS.truncated]).toBe('value');
      expect(dead?.value?.length).toBe(40_000);
      expect(dead?.value?.equals(big.subarray(0, 40_000))).toBe(true);
      expect(dead?.headers[DLQ_HEADERS.originalValueSize]).toBe(String(big.length));
      expect(dead?.headers[DLQ_HEADERS.originalValueSha256]).toBe(createHash('sha256').update(big).digest('hex'));
      // The partition goes on: the events after it are decided and everything is committed.
      const decided = await consumeAll(world.config.TOPIC_DECISIONS, after.length, 30_000);
      expect(decided).toHaveLength(after.length);
      await expect.poll(async () => [...(await committedOffsets(world.config.KAFKA_GROUP_ID, world.config.TOPIC_TRANSACTIONS)).values()].reduce((a, b) => a + b, 0n), { timeout: 15_000 }).toBe(BigInt(messages.length));
    } finally {
      await running.stop();
    }
  }, 90_000);
});
