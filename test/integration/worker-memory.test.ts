// Memory bounded in bytes, against real Kafka and Redis: while the feature store does not
// answer (an outage), large events pile up in Kafka, not in the worker. The batches in flight
// stay under MAX_INFLIGHT_BYTES, the partitions are paused, and the member keeps polling, so it
// stays in its group well past max.poll.interval.ms; when the store answers again everything
// is decided, once.
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import { at, tx } from '../helpers/events.js';
import { closePollingAdmin, committedOffsets, consumeAll, produce } from '../helpers/services.js';
import { delegating } from '../helpers/stores.js';
import { testWorld } from '../helpers/worker.js';

describe('memory bounded in bytes', () => {
  afterAll(() => closePollingAdmin());

  it('holds at most MAX_INFLIGHT_BYTES through an outage longer than max.poll.interval.ms, and stays in the group', async () => {
    const bound = 1_048_576;
    const world = testWorld({ MAX_INFLIGHT_BYTES: String(bound), KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_MAX_POLL_INTERVAL_MS: '8000', PARTITIONS_CONCURRENCY: '2' });
    await world.setup();
    // About 50 kB each, 300 of them: 15 MB, fifteen times the bound.
    const T = new Date(Date.now() - 600_000).toISOString();
    const events = Array.from({ length: 300 }, (_, i) => tx({ transactionId: `big-${world.config.KAFKA_GROUP_ID}-${i}`, accountId: `a${i % 11}`, timestamp: at(T, i * 100), note: randomBytes(37_000).toString('base64') }));
    await produce(world.config.TOPIC_TRANSACTIONS, events.map((e) => ({ key: e.accountId, value: JSON.stringify(e) })));

    let outage = true;
    const waiting: (() => void)[] = [];
    const logs: { msg: string; consumer?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line) as { msg: string; consumer?: string }) });
    const running = await world.start({
      logger,
      wrapStore: (store) => delegating(store, { observe: (batches) => (outage ? new Promise<void>((resolve) => waiting.push(resolve)).then(() => store.observe(batches)) : store.observe(batches)) }),
    });
    // Every value the worker reports of its bytes in flight, and of its paused partitions.
    let maxBytes = 0;
    let maxPaused = 0;
    const gauges = running.metrics;
    const setBytes = gauges.inFlightBytes.set.bind(gauges.inFlightBytes) as (labels: { consumer: string }, v: number) => void;
    const setPaused = gauges.pausedPartitions.set.bind(gauges.pausedPartitions) as (labels: { consumer: string }, v: number) => void;
    Object.assign(gauges.inFlightBytes, { set: (labels: { consumer: string }, v: number) => ((maxBytes = Math.max(maxBytes, v)), setBytes(labels, v)) });
    Object.assign(gauges.pausedPartitions, { set: (labels: { consumer: string }, v: number) => ((maxPaused = Math.max(maxPaused, v)), setPaused(labels, v)) });
    try {
      // Twice max.poll.interval.ms with the store down.
      await new Promise((r) => setTimeout(r, 16_000));
      expect(maxPaused).toBeGreaterThan(0);
      expect(maxBytes).toBeGreaterThan(0);
      expect(maxBytes).toBeLessThanOrEqual(bound);
      outage = false;
      for (const resolve of waiting.splice(0)) resolve();

      const decided = (await consumeAll(world.config.TOPIC_DECISIONS, events.length, 60_000)).map((m) => JSON.parse((m.value as Buffer).toString()) as Decision);
      expect(new Set(decided.map((d) => d.transactionId)).size).toBe(events.length);
      expect(decided).toHaveLength(events.length);
      await expect.poll(async () => [...(await committedOffsets(world.config.KAFKA_GROUP_ID, world.config.TOPIC_TRANSACTIONS)).values()].reduce((a, b) => a + b, 0n), { timeout: 20_000 }).toBe(BigInt(events.length));
      expect(maxBytes).toBeLessThanOrEqual(bound);
      // One assignment, never revoked: the member stayed in its group throughout.
      const ours = logs.filter((l) => l.consumer === 'transactions');
      expect(ours.filter((l) => l.msg === 'partitions assigned')).toHaveLength(1);
      expect(ours.filter((l) => l.msg === 'partitions revoked')).toHaveLength(0);
    } finally {
      outage = false;
      for (const resolve of waiting.splice(0)) resolve();
      await running.stop();
    }
  }, 120_000);
});
