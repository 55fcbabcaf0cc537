// Redis going away: the worker retries with backoff and reports not-ready; no event is
// dropped or dead-lettered, and it catches up when Redis is back.
import { afterAll, describe, expect, it } from 'vitest';
import { tx, at } from '../helpers/events.js';
import { PrivateRedis, freePort } from '../helpers/redis-server.js';
import { closePollingAdmin, committedOffsets, consumeAll, produce } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

describe('worker during a Redis outage', () => {
  afterAll(() => closePollingAdmin());
  let redis: PrivateRedis;
  afterAll(() => redis?.stop());

  it('holds the batch, reports not-ready, and decides everything once Redis returns', async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    const world = testWorld({ REDIS_URL: redis.url });
    await world.setup();
    const running = await world.start();
    const committed = async (): Promise<bigint> => [...(await committedOffsets(world.config.KAFKA_GROUP_ID, world.config.TOPIC_TRANSACTIONS)).values()].reduce((a, b) => a + (b > 0n ? b : 0n), 0n);
    const T = new Date(Date.now() - 3_600_000).toISOString();
    const events = Array.from({ length: 200 }, (_, i) => tx({ transactionId: `out-${i}`, accountId: `a${i % 10}`, timestamp: at(T, i * 1000) }));
    const send = (list: typeof events): Promise<void> => produce(world.config.TOPIC_TRANSACTIONS, list.map((e) => ({ key: e.accountId, value: JSON.stringify(e) })));
    try {
      await send(events.slice(0, 100));
      await expect.poll(committed, { timeout: 30_000 }).toBe(100n);
      expect(running.worker.ready()).toBe(true);

      await redis.stop();
      await send(events.slice(100));
      await expect.poll(() => running.worker.ready(), { timeout: 30_000 }).toBe(false);
      await new Promise((r) => setTimeout(r, 1500));
      expect(await committed()).toBe(100n);
      expect(await running.registry.getSingleMetricAsString('fraud_detector_dependency_retries_total')).toMatch(/dependency="redis"} [1-9]/);

      await redis.start();
      await expect.poll(committed, { timeout: 60_000 }).toBe(200n);
      await expect.poll(() => running.worker.ready(), { timeout: 10_000 }).toBe(true);
      const decisions = await consumeAll(world.config.TOPIC_DECISIONS, 200, 30_000);
      expect(new Set(decisions.map((m) => (JSON.parse((m.value as Buffer).toString()) as { transactionId: string }).transactionId)).size).toBe(200);
      expect(await consumeAll(world.config.TOPIC_DLQ, 1, 2000)).toHaveLength(0);
    } finally {
      await running.stop();
    }
  });
});
