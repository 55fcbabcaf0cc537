// Offsets wait up to COMMIT_INTERVAL_MS to share a commit request (committer.ts). When a
// rebalance takes partitions away meanwhile, their waiting offsets must still reach the broker
// before the new owner starts reading, or it decides again (and emits again) what the first
// worker already decided. The interval here is a minute, and the rebalance comes well within
// it, so nothing is committed before it but by the rebalance callback (and at the end by the
// drains).
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import { at, tx } from '../helpers/events.js';
import { closePollingAdmin, committedOffsets, consumeAll, produce, readAll } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

interface LogLine {
  msg: string;
  consumer?: string;
}

describe('offsets waiting on the commit interval', () => {
  afterAll(() => closePollingAdmin());

  it('are committed when a rebalance takes their partitions: the new owner decides none of them again', async () => {
    const world = testWorld({ COMMIT_INTERVAL_MS: '60000', BATCH_MAX_SIZE: '20', TRANSACTIONS_PARTITIONS: '4' });
    await world.setup();
    const T = new Date(Date.now() - 3_600_000).toISOString();
    const events = Array.from({ length: 300 }, (_, i) => tx({ transactionId: `ci-${i}`, accountId: `a${i % 40}`, timestamp: at(T, i * 1000) }));
    const send = (from: number, to: number): Promise<void> => produce(world.config.TOPIC_TRANSACTIONS, events.slice(from, to).map((e) => ({ key: e.accountId, value: JSON.stringify(e) })));
    const committed = async (): Promise<bigint> => [...(await committedOffsets(world.config.KAFKA_GROUP_ID, world.config.TOPIC_TRANSACTIONS)).values()].reduce((a, b) => a + (b > 0n ? b : 0n), 0n);

    await send(0, 200);
    const startedAt = Date.now();
    const first = await world.start();
    const secondLogs: LogLine[] = [];
    let second: Awaited<ReturnType<typeof world.start>> | undefined;
    try {
      await consumeAll(world.config.TOPIC_DECISIONS, 200, 60_000);
      // All decided, none committed: the offsets wait on the interval.
      expect(await committed()).toBe(0n);

      second = await world.start({ logger: pino({ level: 'info' }, { write: (line: string) => secondLogs.push(JSON.parse(line) as LogLine) }) });
      // The first worker's rebalance callback sends what waited, before the group moves on.
      await expect.poll(committed, { timeout: 40_000, interval: 250 }).toBe(200n);
      expect(Date.now() - startedAt).toBeLessThan(55_000); // not the interval's own timer
      await expect.poll(() => secondLogs.some((l) => l.msg === 'partitions assigned' && l.consumer === 'transactions'), { timeout: 60_000 }).toBe(true);

      await send(200, 300);
      await consumeAll(world.config.TOPIC_DECISIONS, 300, 60_000);
      const redelivered = await second.registry.getSingleMetricAsString('fraud_detector_redelivered_events_total');
      expect(redelivered).toMatch(/ 0$/m);
    } finally {
      await second?.stop();
      await first.stop();
    }
    // The drains committed the rest.
    expect(await committed()).toBe(300n);
    const decisions = (await readAll(world.config.TOPIC_DECISIONS)).map((m) => (JSON.parse((m.value as Buffer).toString()) as Decision).transactionId);
    expect(decisions).toHaveLength(300);
    expect(new Set(decisions).size).toBe(300);
  }, 180_000);
});
