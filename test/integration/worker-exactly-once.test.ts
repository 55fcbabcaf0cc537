// Exactly-once output against real Kafka and Redis (PROCESSING_GUARANTEE=exactly-once): each
// batch's outputs and offsets in one transaction. A worker paused past its session timeout (a
// zombie: the group gave its partition away meanwhile) has its transaction refused when it
// wakes; it aborts, leaving its outputs invisible to read_committed readers, and the partition
// is decided again: a read_committed subscriber sees every decision exactly once.
import { spawn } from 'node:child_process';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import { DLQ_HEADERS } from '../../src/kafka/dlq.js';
import { at, tx } from '../helpers/events.js';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { runWorker } from '../helpers/cli.js';
import { closePollingAdmin, committedOffsets, consumeAll, KAFKA_BROKERS, produce } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

/** Stops this whole process, every thread of it (the Kafka client's heartbeats too), for `seconds`. */
function pauseProcess(seconds: number): void {
  spawn('sh', ['-c', `sleep ${seconds}; kill -CONT ${process.pid}`], { detached: true, stdio: 'ignore' }).unref();
  process.kill(process.pid, 'SIGSTOP');
}

const decisionsOf = (messages: { value: Buffer | null }[]): Decision[] => messages.map((m) => JSON.parse((m.value as Buffer).toString()) as Decision);
const sum = (m: Map<number, bigint>): bigint => [...m.values()].reduce((a, b) => a + b, 0n);

describe('exactly-once output', () => {
  afterAll(() => closePollingAdmin());

  it('commits outputs and offsets together: every decision and dead letter once, offsets at the end', async () => {
    const world = testWorld({ PROCESSING_GUARANTEE: 'exactly-once' });
    await world.setup();
    const T = new Date(Date.now() - 3_600_000).toISOString();
    const events = Array.from({ length: 300 }, (_, i) => tx({ accountId: `a${i % 17}`, timestamp: at(T, i * 1000) }));
    const messages = [...events.map((e) => ({ key: e.accountId, value: JSON.stringify(e) })), { key: 'bad', value: '{"cut' }];
    await produce(world.config.TOPIC_TRANSACTIONS, messages);
    const running = await world.start();
    try {
      await expect.poll(async () => sum(await committedOffsets(world.config.KAFKA_GROUP_ID, world.config.TOPIC_TRANSACTIONS)), { timeout: 60_000 }).toBe(BigInt(messages.length));
      const decided = decisionsOf(await consumeAll(world.config.TOPIC_DECISIONS, events.length + 1, 5000));
      expect(decided).toHaveLength(events.length);
      expect(new Set(decided.map((d) => d.transactionId)).size).toBe(events.length);
      const dead = await consumeAll(world.config.TOPIC_DLQ, 2, 5000);
      expect(dead.map((m) => m.headers[DLQ_HEADERS.code])).toEqual(['FD_EVENT_NOT_JSON']);
      expect(await running.registry.getSingleMetricAsString('fraud_detector_transactions_total')).toMatch(/result="committed"} [1-9]/);
    } finally {
      await running.stop();
    }
  }, 90_000);

  it('fences a zombie: its transaction is refused and invisible, and read_committed sees each decision once', async () => {
    const world = testWorld({ PROCESSING_GUARANTEE: 'exactly-once', COMMIT_INTERVAL_MS: '0', BATCH_MAX_SIZE: '20', PARTITIONS_CONCURRENCY: '1', TRANSACTIONS_PARTITIONS: '1', KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_MAX_POLL_INTERVAL_MS: '6000' });
    await world.setup();
    const T = new Date(Date.now() - 3_600_000).toISOString();
    const events = Array.from({ length: 400 }, (_, i) => tx({ transactionId: `z-${world.config.KAFKA_GROUP_ID}-${i}`, accountId: `a${i % 9}`, timestamp: at(T, i * 1000) }));
    const send = (part: typeof events) => produce(world.config.TOPIC_TRANSACTIONS, part.map((e) => ({ key: 'one', value: JSON.stringify(e) })));
    await send(events.slice(0, 60));
    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { msg: string }) });
    // A, in this process, holds the one partition; B, another process, waits in the group.
    const a = await world.start({ logger });
    await expect.poll(async () => sum(await committedOffsets(world.config.KAFKA_GROUP_ID, world.config.TOPIC_TRANSACTIONS)), { timeout: 30_000 }).toBe(60n);
    const b = await runWorker(world.config, { LOG_LEVEL: 'info' });
    await expect.poll(() => groupMembers(world.config.KAFKA_GROUP_ID), { timeout: 30_000 }).toBe(2);
    // A is paused right after deciding a batch, before its transaction: B takes the partition meanwhile.
    const stages = a.metrics.stageSeconds as unknown as { observe(labels: { stage: string }, seconds: number): void };
    const observe = stages.observe.bind(stages);
    let paused = false;
    stages.observe = (labels, seconds) => {
      observe(labels, seconds);
      if (labels.stage !== 'features' || paused) return;
      paused = true;
      pauseProcess(12);
    };
    try {
      await send(events.slice(60));
      await expect.poll(async () => sum(await committedOffsets(world.config.KAFKA_GROUP_ID, world.config.TOPIC_TRANSACTIONS)), { timeout: 90_000, interval: 250 }).toBe(400n);
      expect(paused).toBe(true);
      // A's transaction, sent when it woke with the group's old generation, was refused and aborted.
      await expect.poll(() => lines.some((l) => l.msg.startsWith('transaction aborted')), { timeout: 20_000 }).toBe(true);
      expect(b.output()).toMatch(/partitions assigned/);
      // read_committed: every transaction decided exactly once.
      const committed = decisionsOf(await consumeAll(world.config.TOPIC_DECISIONS, 401, 8000));
      expect(new Set(committed.map((d) => d.transactionId)).size).toBe(400);
      expect(committed).toHaveLength(400);
      // read_uncommitted: the zombie's aborted outputs are in the log, only never visible.
      const everything = decisionsOf(await consumeAll(world.config.TOPIC_DECISIONS, 10_000, 8000, 'read_uncommitted'));
      expect(everything.length).toBeGreaterThan(400);
    } finally {
      b.child.kill('SIGTERM');
      await b.exited;
      await a.stop();
    }
  }, 180_000);
});

/** Members of a consumer group, as the broker describes it. */
async function groupMembers(groupId: string): Promise<number> {
  const admin = new KafkaJS.Kafka({ 'bootstrap.servers': KAFKA_BROKERS.join(','), log_level: 0 }).admin();
  await admin.connect();
  try {
    return (await admin.describeGroups([groupId])).groups[0]?.members.length ?? 0;
  } finally {
    await admin.disconnect();
  }
}
