// A consumer-group member that hands each partition's batches to a handler in order, several
// partitions at once, and commits a batch's offsets after its handler is done (the outputs
// acknowledged) and counts them committed only once the broker accepted them.
//
// Batches are taken off the client as soon as there is room for them and decided in this
// queue, not the client's: the client refills its message cache only once every batch it
// handed out has been returned, and holding on to them while deciding left the whole pipeline
// idle during each refill (11% of a backlog drain).
//
// In-flight batches are bounded in count and in bytes. A batch that finds no room within
// ROOM_WAIT_MS (the batches ahead are stuck: Redis or Kafka down) is handed back and its
// partition paused, so the client keeps polling (the member stays in the group instead of
// passing max.poll.interval.ms) while nothing more piles up; the client hands the batch again
// from its first offset once the partition is resumed, when a batch in flight finishes.
//
// Each partition has a generation, bumped when it is revoked, lost, rewound or fenced; a
// batch taken in an earlier generation is neither handled nor committed. A partition revoked
// in a rebalance (not lost) first lets its batch in flight finish and commit, within a bound.
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { CommitRefusedError } from '../contract/errors.js';
import type { Logger } from '../observability/logger.js';
import { within } from '../pipeline/within.js';
import type { ClientCloses } from './client-closes.js';
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
  /** Bytes (keys and values) of the batches in flight at most; one batch is always let in. */
  maxInFlightBytes: number;
  sessionTimeoutMs: number;
  maxPollIntervalMs: number;
  maxBackoffMs: number;
  /** How long a revoked partition's batch in flight may take to finish and commit before it is dropped. */
  revokeGraceMs: number;
  /** Where its close is recorded while it runs (the process must not exit during it). */
  closes: ClientCloses;
  commitTimeoutMs: number;
  /** How long a handled batch's offsets may wait to share a commit (Committer). */
  commitIntervalMs: number;
  logger: Logger;
  /**
   * The handler commits each batch's offsets itself (in a transaction with its outputs): once
   * it resolves, the batch counts as committed. Otherwise they are committed here, after it.
   */
  commitsInHandler?: boolean;
  /** Handles one batch; resolves once its outputs are acknowledged. A rejection rewinds the partition, unless it is no longer owned. */
  handle(batch: Batch, lease: PartitionLease): Promise<void>;
  /** After the broker accepted offsets up to `offset` (the next to read), with the batches that covers. */
  committed?(lease: PartitionLease, offset: bigint, batches: readonly BatchReport[]): void;
  /** A refused commit. */
  refused?(lease: PartitionLease, offset: bigint, err: CommitRefusedError): void;
  /** Every 2 s: what the client's statistics say of its cluster. */
  health?(health: ClientHealth): void;
  /** The batches and bytes in flight and the partitions paused for want of room, whenever they change. */
  load?(load: InFlightLoad): void;
}

export interface InFlightLoad {
  batches: number;
  bytes: number;
  paused: number;
}

/** How long a batch may wait for room before it is handed back and its partition paused. */
const ROOM_WAIT_MS = 5_000;

function messageBytes(m: Message): number {
  return (m.value?.length ?? 0) + (m.key?.length ?? 0);
}

function batchBytes(batch: Batch): number {
  let bytes = 0;
  for (const m of batch.messages) bytes += messageBytes(m);
  return bytes;
}

/** The first `n` messages of a batch, as a batch. */
function prefixOf(batch: Batch, n: number): Batch {
  const messages = batch.messages.slice(0, n);
  const last = (messages[n - 1] as Message).offset;
  const lag = BigInt(batch.highWatermark) - 1n - BigInt(last);
  return { ...batch, messages, lastOffset: () => last, offsetLag: () => String(lag > 0n ? lag : 0n) };
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
  private commits: ConfirmedCommits | null = null;
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
  private inFlightBytes = 0;
  private readonly room: (() => void)[] = [];
  /** Partitions paused for want of room, resumed when a batch in flight finishes. */
  private readonly paused = new Map<string, TopicPartition>();

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
    this.commits = commits;
    this.committer = new Committer({
      send: (requests) => commits.commit(requests),
      committed: (target, offset, reports) => o.committed?.((target as LeasedTarget).lease, offset, reports as BatchReport[]),
      refused: (target, offset, err) => o.refused?.((target as LeasedTarget).lease, offset, err),
      maxBackoffMs: o.maxBackoffMs,
      intervalMs: o.commitIntervalMs,
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
   * Stops taking batches, lets those taken finish and waits for the broker to accept their
   * commits (both until `commitsBy`), then leaves the group (until `leftBy`: a client closing
   * in a rebalance waits for it). Returns the partitions left uncommitted, batches unfinished
   * included (their offset is the batch's first).
   */
  async stop(commitsBy: number, leftBy: number): Promise<{ topic: string; partition: number; offset: string }[]> {
    this.stopping = true;
    for (const resolve of this.room.splice(0)) resolve();
    const unfinished = new Set(this.tails.keys());
    const tails = [...this.tails].map(([key, tail]) => tail.then(() => unfinished.delete(key)));
    await within(Promise.all(tails), commitsBy - Date.now());
    const uncommitted = (await this.committer?.drain(Math.max(0, commitsBy - Date.now()))) ?? [];
    for (const key of unfinished) {
      const [topic = '', partition = '0'] = key.split('\u0000');
      uncommitted.push({ topic, partition: Number(partition), offset: 'a batch in flight' });
    }
    const leaving = this.options.closes.track(this.options.name, this.consumer?.disconnect() ?? Promise.resolve());
    const left = await within(leaving, leftBy - Date.now());
    if (!left) this.options.logger.warn({ consumer: this.options.name }, 'the client has not left the group yet (a rebalance holds its close); waiting for it while the drain lasts');
    return uncommitted;
  }

  /** Sends the owned partitions' pending commits and waits until they are queued (see ConfirmedCommits.queued). */
  private async commitNow(): Promise<void> {
    this.committer?.flush();
    await this.commits?.queued();
  }

  /** The client, for what must name it (a transaction's offsets carry its group metadata). */
  client(): Consumer {
    if (this.consumer === null) throw new Error('the consumer has not started');
    return this.consumer;
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

  private async assigned(partitions: TopicPartition[]): Promise<void> {
    this.options.logger.info({ consumer: this.options.name, partitions: partitions.map((p) => p.partition) }, 'partitions assigned');
    // The end of a rebalance round: the new generation is valid until the client rejoins, which
    // (cooperative protocol) it may do right after this; commits refused meanwhile go now.
    await this.commitNow();
    for (const tp of partitions) {
      // Paused before it was let go: ours afresh, read from its committed offset.
      if (this.paused.delete(partitionKey(tp))) this.consumer?.resume([{ topic: tp.topic, partitions: [tp.partition] }]);
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
    this.options.logger.info({ consumer: this.options.name, partitions: partitions.map((p) => p.partition), lost }, 'partitions revoked');
    const keys = partitions.map(partitionKey);
    if (!lost) {
      for (const key of keys) this.closing.add(key);
      const tails = keys.flatMap((key) => this.tails.get(key) ?? []);
      // In a drain, stop() has already waited for them: one still running now is not committed,
      // and waiting again only holds the client's close (which waits for this callback).
      const finished = await within(Promise.all(tails), this.stopping ? 0 : this.options.revokeGraceMs);
      if (!finished) this.options.logger.warn({ consumer: this.options.name, partitions: partitions.map((p) => p.partition) }, 'revoked partitions did not finish their batches in time; their next owner reads them again');
      // Before the client rejoins: the revoked partitions' last commits, and those of the others.
      await this.commitNow();
    }
    for (const key of keys) {
      this.closing.delete(key);
      this.letGo(key);
    }
  }

  /**
   * Queues the batch behind its partition's previous one once there is room for it; with no
   * room within ROOM_WAIT_MS, hands it back and pauses its partition.
   */
  private async take(handed: Batch): Promise<void> {
    let batch = handed;
    const key = partitionKey(batch);
    if (this.stopping || this.halted || batch.messages.length === 0 || this.fenced.has(key) || this.closing.has(key)) return; // not handled, not committed: read again by the partition's next owner
    if (this.paused.has(key)) return; // cached before the pause took effect: handed again from the paused offset
    const rewind = this.rewinds.get(key);
    if (rewind !== undefined) {
      // Until the rewind takes effect the client may still hand out later cached batches.
      if ((batch.messages[0] as Message).offset !== rewind) return;
      this.rewinds.delete(key);
    }
    const lease = this.lease(batch); // as handed out: a revocation while it waits voids it
    // Room is checked, and taken, with no await in between: other batches are admitted while one waits.
    const first = messageBytes(batch.messages[0] as Message);
    const deadline = Date.now() + ROOM_WAIT_MS;
    while (!this.hasRoom(first)) {
      if (this.stopping || !(await this.roomChange(deadline))) {
        if (!this.stopping && lease.owned()) this.pause(batch);
        return;
      }
    }
    if (this.stopping || !lease.owned()) return;
    // A batch larger than the room left is cut: the rest is read again from its first offset.
    const taken = this.fitting(batch);
    if (taken !== batch) this.cutAt(batch, taken.messages.length);
    batch = taken;
    const bytes = batchBytes(batch);
    this.inFlight++;
    this.inFlightBytes += bytes;
    this.reportLoad();
    const previous = this.tails.get(key) ?? Promise.resolve();
    const tail = previous
      .then(() => this.run(batch, lease))
      .catch((err: unknown) => this.failed(batch, lease, err))
      .finally(() => {
        this.inFlight--;
        this.inFlightBytes -= bytes;
        this.room.shift()?.();
        if (this.tails.get(key) === tail) this.tails.delete(key);
        this.resumePaused();
        this.reportLoad();
      });
    this.tails.set(key, tail);
  }

  /** The batch, or as much of it as fits in the bytes left (at least its first message). */
  private fitting(batch: Batch): Batch {
    let left = this.options.maxInFlightBytes - this.inFlightBytes;
    let n = 0;
    for (const m of batch.messages) {
      left -= messageBytes(m);
      if (left < 0 && n > 0) break;
      n++;
    }
    return n === batch.messages.length ? batch : prefixOf(batch, n);
  }

  /** Reads the partition again from message `n` of the batch (the rest of a cut batch). */
  private cutAt(batch: Batch, n: number): void {
    const next = (batch.messages[n] as Message).offset;
    this.rewinds.set(partitionKey(batch), next);
    (this.consumer as Consumer).seek({ topic: batch.topic, partition: batch.partition, offset: next });
  }

  private hasRoom(bytes: number): boolean {
    return this.inFlight === 0 || (this.inFlight < this.options.concurrency * 2 && this.inFlightBytes + bytes <= this.options.maxInFlightBytes);
  }

  /** Waits until a batch in flight finishes or `deadline` passes; false once it has passed. */
  private async roomChange(deadline: number): Promise<boolean> {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        const at = this.room.indexOf(wake);
        if (at >= 0) this.room.splice(at, 1);
        resolve();
      }, left);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.room.push(wake);
    });
    return true;
  }

  /** Hands the batch back: the partition is paused, and read again from this batch once resumed. */
  private pause(batch: Batch): void {
    const key = partitionKey(batch);
    const tp = { topic: batch.topic, partition: batch.partition };
    this.paused.set(key, tp);
    // The client seeks back to the batch's first offset (a batch not resolved is read again).
    this.rewinds.set(key, (batch.messages[0] as Message).offset);
    (this.consumer as Consumer).pause([{ topic: tp.topic, partitions: [tp.partition] }]);
    this.options.logger.debug({ consumer: this.options.name, partition: batch.partition, inFlight: this.inFlight, inFlightBytes: this.inFlightBytes }, 'no room for the batch: partition paused until a batch in flight finishes');
    this.reportLoad();
  }

  private resumePaused(): void {
    if (this.paused.size === 0 || this.stopping || !this.hasRoom(0)) return;
    const partitions = [...this.paused.values()];
    this.paused.clear();
    try {
      (this.consumer as Consumer).resume(partitions.map((tp) => ({ topic: tp.topic, partitions: [tp.partition] })));
    } catch (err) {
      this.options.logger.warn({ consumer: this.options.name, err: (err as Error).message }, 'could not resume paused partitions');
    }
  }

  private reportLoad(): void {
    this.options.load?.({ batches: this.inFlight, bytes: this.inFlightBytes, paused: this.paused.size });
  }

  private async run(batch: Batch, lease: PartitionLease): Promise<void> {
    if (!lease.owned() || this.closing.has(lease.key)) return;
    await this.options.handle(batch, lease);
    // Revoked while it was handled (not within the grace period): its next owner reads it again.
    if (!lease.owned()) return;
    const report: BatchReport = { topic: batch.topic, partition: batch.partition, firstOffset: (batch.messages[0] as Message).offset, lastOffset: batch.lastOffset(), consumed: batch.messages.length };
    if (this.options.commitsInHandler === true) {
      this.options.committed?.(lease, BigInt(batch.lastOffset()) + 1n, [report]);
      return;
    }
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
