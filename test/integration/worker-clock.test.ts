// Bounded clock skew against real Kafka and Redis: a card payment dated 2100 among normal
// ones is decided, counted as a future event, and leaves the card's next payments counting.
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import { at, tx } from '../helpers/events.js';
import { closePollingAdmin, consumeAll, produce } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

describe('a far-future event in the live stream', () => {
  afterAll(() => closePollingAdmin());

  it('is decided but moves no window: the normal events after it keep counting', async () => {
    const world = testWorld();
    await world.setup();
    const T = new Date(Date.now() - 600_000).toISOString();
    const id = world.config.KAFKA_GROUP_ID;
    const stamps = [at(T), at(T, 60_000), at(T, 120_000), '2100-01-01T00:00:00Z', at(T, 180_000), at(T, 240_000), at(T, 300_000)];
    const events = stamps.map((timestamp, i) => tx({ transactionId: `${id}-${i}`, accountId: `${id}-acct`, cardId: `${id}-card`, amount: 10, timestamp }));
    const running = await world.start();
    try {
      // One at a time, so each is its own batch, as in a live stream.
      const decidedSoFar = async (): Promise<number> => (await running.metrics.events.get()).values.reduce((sum, v) => sum + v.value, 0);
      for (const [i, e] of events.entries()) {
        await produce(world.config.TOPIC_TRANSACTIONS, [{ key: e.accountId, value: JSON.stringify(e) }]);
        await expect.poll(decidedSoFar, { timeout: 20_000 }).toBe(i + 1);
      }
      const decided = (await consumeAll(world.config.TOPIC_DECISIONS, events.length, 20_000)).map((m) => JSON.parse((m.value as Buffer).toString()) as Decision);
      const byId = new Map(decided.map((d) => [d.transactionId, d]));
      const counts = events.map((e) => byId.get(e.transactionId)?.features.card?.count_1h);
      expect(counts).toEqual([1, 2, 3, 3, 4, 5, 6]);
      expect(byId.get(`${id}-3`)?.eventTime).toBe('2100-01-01T00:00:00.000Z');
      expect(await running.registry.getSingleMetricAsString('fraud_detector_future_events_total')).toMatch(/ 1$/m);
    } finally {
      await running.stop();
    }
  }, 90_000);
});
