// A consumer-group member that hands each partition's batches to a handler in order, several
// partitions at once, and commits a batch's offsets after its handler is done (the outputs
// acknowledged) and counts them committed only once the broker accepted them.
//
// Batches are taken off the client as soon as there is room for them and decided in this
// queue, not the client's: the client refills its message cache only once every batch it
// handed out has been returned, and holding on to them while deciding left the whole pipeline
// idle during each refill (11% of a backlog drain).
//
// Each partition has a generation, bumped when it is revoked, lost, rewound or fenced; a
// batch taken in an earlier generation is neither handled nor committed. A partition revoked
// in a rebalance (not lost) first lets its batch in flight finish and commit, within a bound.
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { CommitRefusedError } from '../contract/errors.js';
import type { Logger } from '../observability/logger.js';
import type { ClientHealth } from './client-stats.js';
import { createConsumer, type Consumer, type KafkaSettings, type TopicPartition } from './client.js';
import { Committer, type CommitTarget } from './committer.js';
import { ConfirmedCommits } from './commits.js';

export type Batch = KafkaJS.EachBatchPayload['batch'];
export type Message = Batch['messages'][number];

/** A partition as a batch's handler sees it. */
export interface PartitionLease {
  /** Identifies the partition in this worker's maps (`topic\0partition`). */
  readonly key: string;
  readonly topic: string;
  readonly partition: number;
  readonly generation: number;
  /** The batch still counts: the partition is ours and has not been rewound since it was taken. */
  owned(): boolean;
  /** The partition is still ours (a rewind does not change that; a revocation does). */
  held(): boolean;
}

export interface PartitionConsumerOptions {
  /** For logs and metrics: `transactions` or `labels`. */
  name: string;
  kafka: KafkaSettings;
  groupId: string;
  topics: readonly string[];
  maxBatchSize: number;
  /** Partitions handled at once; twice this many batches may be in flight. */
  concurrency: number;
  sessionTimeoutMs: number;
  maxPollIntervalMs: number;
  maxBackoffMs: number;
  /** How long a revoked partition's batch in flight may take to finish and commit before it is dropped. */
  revokeGraceMs: number;
  commitTimeoutMs: number;
  logger: Logger;
  /** Handles one batch; resolves once its outputs are acknowledged. A rejection rewinds the partition, unless it is no longer owned. */
  handle(batch: Batch, lease: PartitionLease): Promise<void>;
  /** After the broker accepted offsets up to `offset` (the next to read), with the batches that covers. */
  committed?(lease: PartitionLease, offset: bigint, batches: readonly BatchReport[]): void;
  /** A refused commit. */
  refused?(lease: PartitionLease, offset: bigint, err: CommitRefusedError): void;
  /** Every 2 s: what the client's statistics say of its cluster. */
  health?(health: ClientHealth): void;
}

export interface BatchReport {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  consumed: number;
}

/** What the committer holds of a partition: owned while it is held, whatever its rewinds. */
interface LeasedTarget extends CommitTarget {
  lease: PartitionLease;
}

/** A partition's key in the per-partition maps. */
export function partitionKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

export class PartitionConsumer {
  private consumer: Consumer | null = null;
  private committer: Committer | null = null;
  private stopping = false;
  /** Per partition: the last batch taken, which the next one waits for. */
  private readonly tails = new Map<string, Promise<void>>();
  private readonly generations = new Map<string, number>();
  /** Per partition, bumped each time it is let go (revoked, lost, fenced) or assigned afresh. */
  private readonly tenures = new Map<string, number>();
  /** Per partition, the lease of its current generation (one object per generation). */
  private readonly leases = new Map<string, PartitionLease>();
  /** Per partition rewound after a failed batch: the offset it must restart at. */
  private readonly rewinds = new Map<string, string>();
  private halted = false;
  /** Partitions another worker has claimed: ignored until the group assigns them to us again. */
  private readonly fenced = new Set<string>();
  /** Partitions being revoked: their batches not yet started are dropped. */
  private readonly closing = new Set<string>();
  private inFlight = 0;
  private readonly room: (() => void)[] = [];

  constructor(private readonly options: PartitionConsumerOptions) {}

  async start(): Promise<void> {
    const o = this.options;
    this.consumer = createConsumer(o.kafka, {
      groupId: o.groupId,
      maxBatchSize: o.maxBatchSize,
      sessionTimeoutMs: o.sessionTimeoutMs,
      maxPollIntervalMs: o.maxPollIntervalMs,
      rebalance: { assigned: (tps) => this.assigned(tps), revoked: (tps, lost) => this.revoked(tps, lost) },
      ...(o.health && { onHealth: (health: ClientHealth) => o.health?.(health) }),
    });
    await this.consumer.connect();
    const commits = new ConfirmedCommits(this.consumer, o.commitTimeoutMs);
    this.committer = new Committer({
      send: (topic, partition, offset) => commits.commit(topic, partition, offset),
      committed: (target, offset, reports) => o.committed?.((target as LeasedTarget).lease, offset, reports as BatchReport[]),
      refused: (target, offset, err) => o.refused?.((target as LeasedTarget).lease, offset, err),
      maxBackoffMs: o.maxBackoffMs,
      logger: o.logger,
    });
    await this.consumer.subscribe({ topics: [...o.topics] });
    await this.consumer.run({
      partitionsConsumedConcurrently: o.concurrency,
      eachBatchAutoResolve: true,
      eachBatch: (payload) => this.take(payload.batch),
    });
  }

  /**
   * Stops taking batches, lets those taken finish, waits (up to `commitWaitMs`) for the broker
   * to accept their commits, and leaves the group. Returns the partitions left uncommitted.
   */
  async stop(commitWaitMs: number): Promise<{ topic: string; partition: number; offset: string }[]> {
    this.stopping = true;
    for (const resolve of this.room.splice(0)) resolve();
    await Promise.all(this.tails.values());
    const uncommitted = (await this.committer?.drain(commitWaitMs)) ?? [];
    await this.consumer?.disconnect();
    return uncommitted;
  }

  /** Takes no more batches (the worker cannot go on); those taken finish or fail, and stop() still drains. */
  halt(): void {
    this.halted = true;
  }

  /** Another worker claimed the partition: nothing more of it is handled until the group assigns it here again. */
  fence(key: string): void {
    this.fenced.add(key);
    this.letGo(key);
  }

  private generation(key: string): number {
    return this.generations.get(key) ?? 0;
  }

  /** Voids the batches taken so far (a rewind: the commits of those already done still count). */
  private bump(key: string): void {
    this.generations.set(key, this.generation(key) + 1);
    this.rewinds.delete(key);
  }

  /** The partition is no longer ours (or is ours afresh): nothing taken before is handled, committed or reported. */
  private letGo(key: string): void {
    this.bump(key);
    this.tenures.set(key, (this.tenures.get(key) ?? 0) + 1);
    this.committer?.forget(key);
  }

  private lease(batch: Batch): PartitionLease {
    const key = partitionKey(batch);
    const generation = this.generation(key);
    let lease = this.leases.get(key);
    if (lease?.generation !== generation) {
      const tenure = this.tenures.get(key) ?? 0;
      lease = { key, topic: batch.topic, partition: batch.partition, generation, owned: () => this.generation(key) === generation, held: () => (this.tenures.get(key) ?? 0) === tenure };
      this.leases.set(key, lease);
    }
    return lease;
  }

  private assigned(partitions: TopicPartition[]): void {
    for (const tp of partitions) {
      this.fenced.delete(partitionKey(tp));
      this.letGo(partitionKey(tp));
    }
  }

  /**
   * Revoked (not lost): the partitions' batch in flight may finish and commit within the
   * grace period, so their next owner starts after it; batches not yet started are dropped.
   * Lost: the group already gave them to others; drop everything at once.
   */
  private async revoked(partitions: TopicPartition[], lost: boolean): Promise<void> {
    const keys = partitions.map(partitionKey);
    if (!lost) {
      for (const key of keys) this.closing.add(key);
      const tails = keys.flatMap((key) => this.tails.get(key) ?? []);
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([Promise.all(tails).then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.options.revokeGraceMs)))]);
      clearTimeout(timer);
      if (!finished) this.options.logger.warn({ consumer: this.options.name, partitions: partitions.map((p) => p.partition) }, 'revoked partitions did not finish their batches in time; their next owner reads them again');
    }
    for (const key of keys) {
      this.closing.delete(key);
      this.letGo(key);
    }
  }

  /** Queues the batch behind its partition's previous one; returns once there is room for it. */
  private async take(batch: Batch): Promise<void> {
    const key = partitionKey(batch);
    if (this.stopping || this.halted || batch.messages.length === 0 || this.fenced.has(key) || this.closing.has(key)) return; // not handled, not committed: read again by the partition's next owner
    const rewind = this.rewinds.get(key);
    if (rewind !== undefined) {
      // Until the rewind takes effect the client may still hand out later cached batches.
      if ((batch.messages[0] as Message).offset !== rewind) return;
      this.rewinds.delete(key);
    }
    const lease = this.lease(batch); // as handed out: a revocation while it waits voids it
    const limit = this.options.concurrency * 2;
    while (this.inFlight >= limit && !this.stopping) await new Promise<void>((resolve) => this.room.push(resolve));
    if (this.stopping) return;
    this.inFlight++;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const tail = previous
      .then(() => this.run(batch, lease))
      .catch((err: unknown) => this.failed(batch, lease, err))
      .finally(() => {
        this.inFlight--;
        this.room.shift()?.();
        if (this.tails.get(key) === tail) this.tails.delete(key);
      });
    this.tails.set(key, tail);
  }

  private async run(batch: Batch, lease: PartitionLease): Promise<void> {
    if (!lease.owned() || this.closing.has(lease.key)) return;
    await this.options.handle(batch, lease);
    // Revoked while it was handled (not within the grace period): its next owner reads it again.
    if (!lease.owned()) return;
    const report: BatchReport = { topic: batch.topic, partition: batch.partition, firstOffset: (batch.messages[0] as Message).offset, lastOffset: batch.lastOffset(), consumed: batch.messages.length };
    const target: LeasedTarget = { topic: lease.topic, partition: lease.partition, owned: () => lease.held(), lease };
    (this.committer as Committer).decided(lease.key, target, BigInt(batch.lastOffset()) + 1n, report);
  }

  /**
   * A batch that failed for a reason retrying cannot fix (a bug), or was stopped mid-retry:
   * nothing after it in its partition is handled or committed, and the partition is rewound to
   * the batch's first offset, so its events are read again. A batch of a partition no longer
   * ours (revoked, fenced) is only dropped.
   */
  private failed(batch: Batch, lease: PartitionLease, err: unknown): void {
    if (!lease.owned() || this.stopping) {
      if (!this.stopping) this.options.logger.info({ consumer: this.options.name, partition: batch.partition }, 'batch dropped: the partition is no longer ours');
      return;
    }
    this.bump(lease.key);
    this.options.logger.error({ consumer: this.options.name, partition: batch.partition, err: err instanceof Error ? err.message : String(err) }, 'batch failed; rewinding the partition to read it again');
    const first = batch.messages[0] as Message;
    this.rewinds.set(lease.key, first.offset);
    try {
      (this.consumer as Consumer).seek({ topic: batch.topic, partition: batch.partition, offset: first.offset });
    } catch (seekErr) {
      this.options.logger.warn({ consumer: this.options.name, partition: batch.partition, err: (seekErr as Error).message }, 'could not rewind the partition; it is read again after the next rebalance');
    }
  }
}
