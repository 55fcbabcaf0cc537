// Exactly-once output (PROCESSING_GUARANTEE=exactly-once): the outputs of batches (alerts,
// decisions, dead letters) and the offsets they consumed go to Kafka in one transaction, so a
// `read_committed` subscriber sees each batch's outputs once, or not at all if it aborted.
// A producer has one transaction at a time: batches that finish meanwhile wait, up to
// COMMIT_INTERVAL_MS, and share the next one (Kafka Streams' commit interval). The offsets are
// sent with the consumer's group metadata (KIP-447): a worker that lost its partitions (a
// zombie, paused past its session timeout) has its transaction refused by the group
// coordinator, and aborts it, leaving nothing visible.
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { KafkaError } from '../contract/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Consumer, Producer } from './client.js';

/** What one batch puts in a transaction: its outputs and, for a transactions batch, the next offset to read. */
export interface TransactionEntry {
  out: KafkaJS.TopicMessages[];
  offset?: { topic: string; partition: number; next: bigint };
}

interface Pending extends TransactionEntry {
  resolve: () => void;
  reject: (err: KafkaError) => void;
}

/** librdkafka's codes for a producer that can go on no more. */
const ERR_FATAL = -150;
const ERR_FENCED = -144;
const ERR_INVALID_PRODUCER_EPOCH = 47;
const ERR_PRODUCER_FENCED = 90;
const FATAL_CODES = new Set([ERR_FATAL, ERR_FENCED, ERR_INVALID_PRODUCER_EPOCH, ERR_PRODUCER_FENCED]);

export interface TransactionHooks {
  committed?(batches: number, messages: number): void;
  aborted?(err: KafkaError): void;
}

export class TransactionalOutputs {
  private pending: Pending[] = [];
  private running: Promise<void> | null = null;

  constructor(
    private readonly producer: Producer,
    /** The consumer whose offsets go into the transactions (its group metadata fences zombies). */
    private readonly consumer: () => Consumer,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly hooks: TransactionHooks = {},
  ) {}

  /** Resolves once the transaction holding this entry committed; rejects (KafkaError) if it aborted. */
  submit(entry: TransactionEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ ...entry, resolve, reject });
      this.running ??= this.loop().finally(() => (this.running = null));
    });
  }

  /** Commits transactions while entries wait; the first waits up to the interval for company. */
  private async loop(): Promise<void> {
    while (this.pending.length > 0) {
      if (this.intervalMs > 0) await new Promise((r) => setTimeout(r, this.intervalMs));
      const entries = this.pending;
      this.pending = [];
      await this.transact(entries);
    }
  }

  private async transact(entries: Pending[]): Promise<void> {
    const byTopic = new Map<string, KafkaJS.Message[]>();
    for (const e of entries) for (const t of e.out) byTopic.set(t.topic, [...(byTopic.get(t.topic) ?? []), ...t.messages]);
    const offsets = new Map<string, { topic: string; partition: number; next: bigint }>();
    for (const e of entries) {
      if (e.offset === undefined) continue;
      const key = `${e.offset.topic}\u0000${e.offset.partition}`;
      const known = offsets.get(key);
      if (known === undefined || known.next < e.offset.next) offsets.set(key, e.offset);
    }
    let messages = 0;
    for (const m of byTopic.values()) messages += m.length;
    let open = false;
    try {
      const txn = await this.producer.transaction();
      open = true;
      if (byTopic.size > 0) await txn.sendBatch({ topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })) });
      if (offsets.size > 0) {
        // The next offset to read, as a consumer commit has it (the client passes it through as given).
        const topics = new Map<string, { partition: number; offset: string }[]>();
        for (const o of offsets.values()) topics.set(o.topic, [...(topics.get(o.topic) ?? []), { partition: o.partition, offset: String(o.next) }]);
        await txn.sendOffsets({ consumer: this.consumer(), topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })) });
      }
      await txn.commit();
      open = false;
      this.hooks.committed?.(entries.length, messages);
      for (const e of entries) e.resolve();
    } catch (err) {
      const failure = transactionError(err);
      if (open) {
        await this.producer.abort().catch((abortErr: unknown) => {
          this.logger.warn({ err: (abortErr as Error).message }, 'could not abort the transaction');
        });
      }
      this.logger.warn({ batches: entries.length, messages, err: failure.message, fatal: failure.fatal }, 'transaction aborted: its outputs and offsets are invisible to read_committed readers; the batches are tried again while their partitions are ours');
      this.hooks.aborted?.(failure);
      for (const e of entries) e.reject(failure);
    }
  }
}

function transactionError(err: unknown): KafkaError {
  const e = err as { message?: string; code?: number; fatal?: boolean };
  const fatal = e.fatal === true || (e.code !== undefined && FATAL_CODES.has(e.code));
  return new KafkaError(`transaction failed: ${e.message ?? 'unknown error'}`, { retriable: !fatal, fatal, cause: err });
}
