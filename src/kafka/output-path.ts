// Where a batch's results leave the worker: its alerts, decisions and dead letters produced
// with the worker's idempotent producer (acks=all), retried until Kafka acknowledged them or
// the partition is no longer the worker's. It watches for outputs Kafka does not acknowledge
// (brokers down, fewer in-sync replicas than min.insync.replicas: the worker is then not
// ready) and for a fatal producer error, which retrying cannot cure.
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { KafkaError } from '../contract/errors.js';
import type { Logger } from '../observability/logger.js';
import { withRetry, type RetryOptions } from '../pipeline/retry.js';
import { within } from '../pipeline/within.js';
import type { ClientCloses } from './client-closes.js';
import type { Producer } from './client.js';
import { sendOutputs } from './outputs.js';
import type { TransactionalOutputs, TransactionEntry } from './transactions.js';

/**
 * Outputs unacknowledged this long mean Kafka is not taking writes: the worker reports
 * not-ready while it waits. A healthy produce with acks=all takes milliseconds.
 */
const OUTPUT_STALL_MS = 5_000;

export interface OutputPathHooks {
  /** Outputs started or stopped waiting longer than OUTPUT_STALL_MS. */
  stalled(stalled: boolean, waitingMs: number): void;
  /** The producer failed fatally: nothing more can be sent with it. */
  fatal(err: KafkaError): void;
}

export class OutputPath {
  /** Outputs waiting for Kafka's acknowledgement, by when they were sent. */
  private readonly sending = new Set<{ since: number }>();
  private stalledNow = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly producer: Producer,
    private readonly hooks: OutputPathHooks,
    private readonly logger: Logger,
    /** Exactly-once: outputs and offsets go in transactions (transactions.ts). */
    private readonly transactional?: TransactionalOutputs,
  ) {
    this.timer = setInterval(() => this.checkStall(), 1000);
    this.timer.unref();
  }

  /** Exactly-once: a batch's offsets are committed here, in the transaction with its outputs. */
  get commitsOffsets(): boolean {
    return this.transactional !== undefined;
  }

  /**
   * Resolves once Kafka acknowledged every message (exactly-once: once the transaction holding
   * them and `offset` committed); `retry` says how long to keep trying.
   */
  async send(out: KafkaJS.TopicMessages[], retry: RetryOptions, offset?: TransactionEntry['offset']): Promise<void> {
    const tx = this.transactional;
    if (out.length === 0 && (tx === undefined || offset === undefined)) return;
    const pending = { since: Date.now() };
    this.sending.add(pending);
    try {
      await withRetry(() => (tx === undefined ? sendOutputs(this.producer, out) : tx.submit(offset === undefined ? { out } : { out, offset })), retry);
    } catch (err) {
      if (err instanceof KafkaError && err.fatal) this.hooks.fatal(err);
      throw err;
    } finally {
      this.sending.delete(pending);
      this.checkStall();
    }
  }

  stalled(): boolean {
    return this.stalledNow;
  }

  /**
   * Sends what the producer still holds (for up to `flushMs`), then disconnects it (recorded in
   * `closes` while it runs; waited for until `flushMs` has passed, and then left to `closes`).
   */
  async close(flushMs: number, closes: ClientCloses): Promise<void> {
    clearInterval(this.timer);
    const by = Date.now() + flushMs;
    await this.producer.flush({ timeout: flushMs }).catch(() => undefined);
    await within(closes.track('producer', this.producer.disconnect()), Math.max(500, by - Date.now()));
  }

  private checkStall(): void {
    const now = Date.now();
    let oldest = 0;
    for (const s of this.sending) oldest = Math.max(oldest, now - s.since);
    const stalled = oldest > OUTPUT_STALL_MS;
    if (stalled === this.stalledNow) return;
    this.stalledNow = stalled;
    if (stalled) this.logger.warn({ waitingMs: oldest }, 'Kafka has not acknowledged outputs for a while; not ready until it does');
    else this.logger.info('Kafka acknowledges outputs again');
    this.hooks.stalled(stalled, oldest);
  }
}
