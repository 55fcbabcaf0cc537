// Commits count only once the broker has accepted them. A worker paused (SIGSTOP: a VM freeze,
// a long GC pause) between producing a batch's outputs and committing it, for longer than its
// session timeout, has been dropped from the group by the broker when it wakes; the commit it
// then sends is refused. The refusal is logged with the partition, the offset and the cause,
// counted, and the batch is never reported as committed; the worker rejoins, reads the batch
// again and decides it as it did the first time.
import { spawn } from 'node:child_process';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import type { BatchReport } from '../../src/kafka/worker.js';
import { at, tx } from '../helpers/events.js';
import { closePollingAdmin, committedOffsets, produce, readAll } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

/** Stops this whole process, every thread of it (the Kafka client's heartbeats too), for `seconds`. */
function pauseProcess(seconds: number): void {
  spawn('sh', ['-c', `sleep ${seconds}; kill -CONT ${process.pid}`], { detached: true, stdio: 'ignore' }).unref();
  process.kill(process.pid, 'SIGSTOP');
}

interface LogLine {
  msg: string;
  [field: string]: unknown;
}

describe('worker commits', () => {
  afterAll(() => closePollingAdmin());

  // With each batch's commit sent at once, and with the default interval, where the commits
  // waiting when the process stops go out (and are refused) once it runs again.
  it.each([['0'], ['100']])('sees a refused commit (COMMIT_INTERVAL_MS=%s): logged, counted, not reported as committed, and the batch decided again the same way', async (interval) => {
    const world = testWorld({ COMMIT_INTERVAL_MS: interval, BATCH_MAX_SIZE: '20', PARTITIONS_CONCURRENCY: '1', TRANSACTIONS_PARTITIONS: '1', KAFKA_SESSION_TIMEOUT_MS: '6000', KAFKA_MAX_POLL_INTERVAL_MS: '6000' });
    await world.setup();
    const T = new Date(Date.now() - 3_600_000).toISOString();
    const events = Array.from({ length: 400 }, (_, i) => tx({ transactionId: `rc-${i}`, accountId: `a${i % 9}`, merchantId: `m${i % 3}`, timestamp: at(T, i * 1000) }));
    await produce(world.config.TOPIC_TRANSACTIONS, events.map((e) => ({ key: e.accountId, value: JSON.stringify(e) })));

    const reports: BatchReport[] = [];
    const lines: LogLine[] = [];
    const seen: { atRefusal: BatchReport[] | null } = { atRefusal: null };
    const logger = pino({ level: 'info' }, {
      write: (line: string) => {
        const parsed = JSON.parse(line) as LogLine;
        lines.push(parsed);
        if (seen.atRefusal === null && parsed.msg.startsWith('commit refused')) seen.atRefusal = [...reports];
      },
    });
    const running = await world.start({ logger });
    // The pause: right after Kafka acknowledged a batch's outputs (the worker times each
    // produce), once every earlier batch's commit has been answered, so this batch's commit is
    // the next thing the worker sends when the process runs again.
    const stages = running.metrics.stageSeconds as unknown as { observe(labels: { stage: string }, seconds: number): void };
    const observe = stages.observe.bind(stages);
    let batches = 0;
    let paused = false;
    stages.observe = (labels, seconds) => {
      observe(labels, seconds);
      if (labels.stage !== 'produce') return;
      batches++;
      // Sent at once, each commit is answered within the next batch; on the interval, the
      // third batch's comes with the first two's, after the pause.
      if (!paused && batches >= 3 && (interval !== '0' || reports.length === batches - 1)) {
        paused = true;
        pauseProcess(10);
      }
    };
    running.worker.onBatch((r) => reports.push(r));
    try {
      const committed = async (): Promise<bigint> => (await committedOffsets(world.config.KAFKA_GROUP_ID, world.config.TOPIC_TRANSACTIONS)).get(0) ?? -1n;
      await expect.poll(committed, { timeout: 90_000, interval: 250 }).toBe(400n);

      expect(paused).toBe(true);
      const refusal = lines.find((l) => l.msg.startsWith('commit refused'));
      expect(refusal).toMatchObject({ topic: world.config.TOPIC_TRANSACTIONS, partition: 0, code: 'FD_COMMIT_REFUSED' });
      expect(String(refusal?.err)).toMatch(/refused|member|generation|state/i);
      const refusedOffset = BigInt(refusal?.offset as string);
      // Nothing reported as committed reached the refused offset when the refusal came.
      expect(seen.atRefusal).not.toBeNull();
      expect((seen.atRefusal ?? []).every((r) => BigInt(r.lastOffset) + 1n < refusedOffset)).toBe(true);
      expect(await running.registry.getSingleMetricAsString('fraud_detector_commit_failures_total')).toMatch(/consumer="transactions"} [1-9]/);

      // Read again after the worker rejoined, and decided as the first time.
      const decisions = (await readAll(world.config.TOPIC_DECISIONS)).map((m) => JSON.parse((m.value as Buffer).toString()) as Decision);
      const byId = new Map<string, Decision[]>();
      for (const d of decisions) byId.set(d.transactionId, [...(byId.get(d.transactionId) ?? []), d]);
      expect(byId.size).toBe(400);
      const redelivered = [...byId.values()].filter((ds) => ds.length > 1);
      expect(redelivered.length).toBeGreaterThan(0);
      const strip = ({ decidedAt: _decidedAt, ...rest }: Decision): Omit<Decision, 'decidedAt'> => rest;
      for (const ds of redelivered) for (const d of ds.slice(1)) expect(strip(d)).toEqual(strip(ds[0] as Decision));
      expect(await running.registry.getSingleMetricAsString('fraud_detector_redelivered_events_total')).toMatch(/ [1-9]\d*$/m);
      // Every offset reported committed once: the refused batch only after it was read again
      // and its commit accepted, not also when it was refused.
      await expect.poll(() => reports.some((r) => r.lastOffset === '399'), { timeout: 10_000 }).toBe(true);
      const ranges = [...reports].sort((a, b) => Number(BigInt(a.firstOffset) - BigInt(b.firstOffset)));
      ranges.forEach((r, i) => expect(BigInt(r.firstOffset)).toBe(i === 0 ? 0n : BigInt((ranges[i - 1] as BatchReport).lastOffset) + 1n));
      expect(ranges.at(-1)?.lastOffset).toBe('399');
    } finally {
      await running.stop();
    }
  }, 150_000);
});
