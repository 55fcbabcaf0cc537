// Reads what `features rebuild` applies again: each partition of a topic from the first offset
// at or after a time up to the offset its consumer group has committed (what the workers have
// decided and applied), so the workers, started again, carry on exactly where the rebuilt
// state ends. Read with a throw-away group that commits nothing.
import { randomUUID } from 'node:crypto';
import { RebuildRefusedError } from '../contract/errors.js';
import { createAdmin, createConsumer, type KafkaSettings } from './client.js';
import type { Batch, Message } from './partition-consumer.js';

/** Offsets [from, to) of one partition. */
export interface OffsetRange {
  topic: string;
  partition: number;
  from: bigint;
  to: bigint;
}

/**
 * Per partition of `topic`: from the first offset at or after `sinceMs` to `groupId`'s committed
 * offset. A partition the group never committed has nothing to rebuild (the workers read it
 * from the start). Refused while the group has members: workers applying new events while
 * older ones are applied again would find those too late.
 */
export async function rangesToRebuild(settings: KafkaSettings, topic: string, groupId: string, sinceMs: number): Promise<OffsetRange[]> {
  const admin = createAdmin(settings);
  await admin.connect();
  try {
    const groups = await admin.describeGroups([groupId], { timeout: 10_000 });
    const members = groups.groups[0]?.members.length ?? 0;
    if (members > 0) throw new RebuildRefusedError(`group ${groupId} has ${members} active member(s); stop the workers (scale to 0) before a rebuild, then start them again`);
    const starts = await admin.fetchTopicOffsetsByTimestamp(topic, sinceMs, { timeout: 10_000, isolationLevel: 0 });
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic], timeout: 10_000 });
    const ends = new Map((committed?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    return starts
      .map((s) => ({ topic, partition: s.partition, from: BigInt(s.offset), to: ends.get(s.partition) ?? -1n }))
      .filter((r) => r.to > r.from)
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

/** Where `readRanges` hands what it reads. */
export interface RangeSink {
  /** Messages of one partition, in offset order, all within its range. */
  batch(topic: string, partition: number, messages: readonly Message[]): Promise<void>;
  /** The partition has been read to the end of its range. */
  done(topic: string, partition: number): Promise<void>;
  /** Records of the partition the sink holds and has not applied yet: past `maxQueued`, the partition is paused. */
  queued(topic: string, partition: number): number;
}

/**
 * Reads every message of the ranges into `sink`, in offset order within each partition, and
 * resolves once every range has been read to its end. A partition whose records wait in the
 * sink beyond `maxQueued` is paused until the others catch up (memory stays bounded).
 */
export async function readRanges(settings: KafkaSettings, ranges: readonly OffsetRange[], options: { maxBatchSize: number; maxQueued: number }, sink: RangeSink): Promise<void> {
  const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
  const open = new Map(ranges.map((r) => [key(r.topic, r.partition), r]));
  if (open.size === 0) return;
  const topics = [...new Set(ranges.map((r) => r.topic))];
  const consumer = createConsumer(settings, { groupId: `fraud-detector-rebuild-${randomUUID()}`, maxBatchSize: options.maxBatchSize, startAt: 'earliest' });
  await consumer.connect();
  const outcome: { failed: Error | null } = { failed: null };
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  /** Partitions sought to their range's start (the group starts at the earliest offset). */
  const sought = new Set<string>();
  /** Next offset to hand to the sink, per partition: a batch the client hands out again (after a seek) is not applied twice. */
  const next = new Map(ranges.map((r) => [key(r.topic, r.partition), r.from]));
  const paused = new Map<string, OffsetRange>();
  const boundMemory = async (): Promise<void> => {
    for (const [k, r] of paused) {
      if (sink.queued(r.topic, r.partition) > options.maxQueued / 2) continue;
      paused.delete(k);
      consumer.resume([{ topic: r.topic, partitions: [r.partition] }]);
    }
    for (const [k, r] of open) {
      if (paused.has(k) || sink.queued(r.topic, r.partition) <= options.maxQueued) continue;
      paused.set(k, r);
      consumer.pause([{ topic: r.topic, partitions: [r.partition] }]);
    }
    await Promise.resolve();
  };
  const handle = async (batch: Batch): Promise<void> => {
    const k = key(batch.topic, batch.partition);
    const range = open.get(k);
    if (range === undefined) return;
    const first = batch.messages[0];
    if (!sought.has(k)) {
      sought.add(k);
      if (first !== undefined && BigInt(first.offset) < range.from) consumer.seek({ topic: batch.topic, partition: batch.partition, offset: String(range.from) });
    }
    const from = next.get(k) as bigint;
    const fresh = batch.messages.filter((m) => BigInt(m.offset) >= from && BigInt(m.offset) < range.to);
    const last = fresh[fresh.length - 1];
    if (last === undefined) return;
    next.set(k, BigInt(last.offset) + 1n);
    await sink.batch(batch.topic, batch.partition, fresh);
    if (BigInt(last.offset) + 1n >= range.to) {
      open.delete(k);
      paused.delete(k);
      await sink.done(batch.topic, batch.partition);
      if (open.size === 0) finish();
    }
    await boundMemory();
  };
  try {
    await consumer.subscribe({ topics });
    await consumer.run({
      eachBatch: async ({ batch }: { batch: Batch }) => {
        if (outcome.failed !== null) return;
        try {
          await handle(batch);
        } catch (err) {
          outcome.failed = err instanceof Error ? err : new Error('rebuild failed', { cause: err });
          finish();
        }
      },
    });
    await finished;
    if (outcome.failed !== null) throw outcome.failed;
  } finally {
    await consumer.disconnect();
  }
}
