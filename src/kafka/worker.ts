// The consumer-group worker: per partition batch, run the pipeline, produce its outputs,
// and commit the batch's offsets only after Kafka acknowledged every output.
//
// Batches are taken off the client as soon as there is room for them and decided in the
// worker's own queue, one partition's batches in order, several partitions at once. The
// client refills its message cache only once every batch it handed out has been returned;
// holding on to them while deciding left the whole pipeline idle during each refill (11%
// of a backlog drain) and half idle while the last partitions of each refill finished.
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Decided, PipelineDeps, Rejected } from '../pipeline/process-batch.js';
import { processBatch } from '../pipeline/process-batch.js';
import { withRetry, type RetryOptions } from '../pipeline/retry.js';
import { parseLabel, type LabelEvent } from '../contract/label.js';
import { applyLabels } from '../features/engine.js';
import { isLabelEntity } from '../features/definitions.js';
import { parseTransaction } from '../contract/transaction.js';
import { InvalidEventError, KafkaError } from '../contract/errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Consumer, KafkaSettings, Producer } from './client.js';
import { createConsumer, createProducer } from './client.js';
import type { OutgoingMessage, SourceRecord } from './dlq.js';
import { deadLetter } from './dlq.js';
import { decisionJson } from '../contract/decision-json.js';

export interface WorkerOptions {
  kafka: KafkaSettings;
  groupId: string;
  topics: { transactions: string; alerts: string; decisions: string; dlq: string; labels: string };
  emitDecisions: boolean;
  maxBatchSize: number;
  partitionsConcurrency: number;
  maxEventBytes: number;
  maxBackoffMs: number;
}

export interface BatchReport {
  partition: number;
  /** The batch's offsets, committed when the report is made. */
  firstOffset: string;
  lastOffset: string;
  consumed: number;
  decided: number;
  alerts: number;
  deadLettered: number;
}

type Batch = KafkaJS.EachBatchPayload['batch'];
type Message = Batch['messages'][number];

/** A topic partition's key in the worker's per-partition maps. */
function slot(tp: { topic: string; partition: number }): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

export class DetectorWorker {
  private consumer: Consumer | null = null;
  private producer: Producer | null = null;
  private stopping = false;
  private starting: Promise<void> | null = null;
  private running = false;
  private degraded = false;
  private readonly onBatchListeners: ((report: BatchReport) => void)[] = [];
  /** Per topic partition (see `slot`): the last batch taken, which the next one waits for. */
  private readonly tails = new Map<string, Promise<void>>();
  /**
   * Per partition: bumped when it is revoked, lost or rewound, so batches taken before that
   * are neither decided nor committed (the partition's next owner starts at the last commit).
   */
  private readonly generations = new Map<string, number>();
  /** Per partition rewound after a failed batch: the offset the partition must restart at. */
  private readonly rewinds = new Map<string, string>();
  private inFlight = 0;
  private readonly room: (() => void)[] = [];

  constructor(
    private readonly options: WorkerOptions,
    private readonly pipeline: PipelineDeps,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  /** Connects, joins the group and starts consuming; resolves once consumption has started. */
  start(): Promise<void> {
    this.starting ??= this.connectAndRun();
    return this.starting;
  }

  private async connectAndRun(): Promise<void> {
    this.producer = createProducer(this.options.kafka);
    await this.producer.connect();
    this.consumer = createConsumer(this.options.kafka, this.options.groupId, this.options.maxBatchSize, 'earliest', (revoked) => {
      for (const tp of revoked) this.revoked(slot(tp));
    });
    await this.consumer.connect();
    // Labels are read only when some feature is fed by them.
    const labels = this.pipeline.features.entities.some((e) => isLabelEntity(e.entity));
    await this.consumer.subscribe({ topics: [this.options.topics.transactions, ...(labels ? [this.options.topics.labels] : [])] });
    await this.consumer.run({
      partitionsConsumedConcurrently: this.options.partitionsConcurrency,
      eachBatchAutoResolve: true,
      eachBatch: (payload) => this.take(payload.batch),
    });
    this.running = true;
    this.updateReady();
    this.logger.info({ topic: this.options.topics.transactions, group: this.options.groupId }, 'worker consuming');
  }

  /** Stops fetching, lets the in-flight batches finish and commit, leaves the group, flushes. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // A stop during start-up (a pod told to go right away) lets the start finish first, so
    // the clients are stopped from a known state and the process still exits cleanly.
    await this.starting?.catch(() => undefined);
    this.running = false;
    this.updateReady();
    // Finish and commit what was taken, then leave the group.
    await Promise.all(this.tails.values());
    await this.consumer?.disconnect();
    await this.producer?.flush({ timeout: 10_000 }).catch(() => undefined);
    await this.producer?.disconnect();
    this.logger.info('worker stopped');
  }

  onBatch(listener: (report: BatchReport) => void): void {
    this.onBatchListeners.push(listener);
  }

  /** Alive while the process answers; a draining worker is alive, only not ready. */
  healthy(): boolean {
    return true;
  }

  ready(): boolean {
    return this.running && !this.stopping && !this.degraded;
  }

  private updateReady(): void {
    this.metrics.ready.set(this.ready() ? 1 : 0);
  }

  private generation(key: string): number {
    return this.generations.get(key) ?? 0;
  }

  private bump(key: string): void {
    this.generations.set(key, this.generation(key) + 1);
  }

  /** On revocation: a later owner (this worker again, maybe) starts at the last commit. */
  private revoked(key: string): void {
    this.bump(key);
    this.rewinds.delete(key);
  }

  /** Queues the batch behind its partition's previous one; returns once there is room for it. */
  private async take(batch: Batch): Promise<void> {
    if (this.stopping || batch.messages.length === 0) return; // not decided, not committed: read again by the next owner
    const key = slot(batch);
    const rewind = this.rewinds.get(key);
    if (rewind !== undefined) {
      // Until the rewind takes effect the client may still hand out later cached batches.
      if ((batch.messages[0] as Message).offset !== rewind) return;
      this.rewinds.delete(key);
    }
    const generation = this.generation(key); // as handed out: a revocation while it waits voids it
    const limit = this.options.partitionsConcurrency * 2;
    while (this.inFlight >= limit) await new Promise<void>((resolve) => this.room.push(resolve));
    if (this.stopping) return;
    this.inFlight++;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const labels = batch.topic === this.options.topics.labels;
    const tail = previous
      .then(() => (labels ? this.applyLabels(batch, generation) : this.decide(batch, generation)))
      .catch((err: unknown) => this.failed(batch, err))
      .finally(() => {
        this.inFlight--;
        this.room.shift()?.();
        if (this.tails.get(key) === tail) this.tails.delete(key);
      });
    this.tails.set(key, tail);
  }

  /**
   * A batch that failed for a reason retrying cannot fix (a bug), or was stopped mid-retry:
   * nothing after it in its partition is decided or committed, and the partition is rewound
   * to the batch's first offset, so its events are read again (at-least-once).
   */
  private failed(batch: Batch, err: unknown): void {
    this.bump(slot(batch));
    if (this.stopping) return;
    this.logger.error({ partition: batch.partition, err: err instanceof Error ? err.message : String(err) }, 'batch failed; rewinding the partition to read it again');
    const first = batch.messages[0] as Message;
    this.rewinds.set(slot(batch), first.offset);
    try {
      (this.consumer as Consumer).seek({ topic: batch.topic, partition: batch.partition, offset: first.offset });
    } catch (seekErr) {
      this.logger.warn({ partition: batch.partition, err: (seekErr as Error).message }, 'could not rewind the partition; it is read again after the next rebalance');
    }
  }

  private async decide(batch: Batch, generation: number): Promise<void> {
    const owned = (): boolean => this.generation(slot(batch)) === generation;
    if (!owned()) return;
    const messages = batch.messages;
    this.metrics.batchSize.observe(messages.length);
    this.metrics.consumerLag.set({ partition: String(batch.partition) }, Number(batch.offsetLag()));
    const outcome = await withRetry(() => processBatch(messages, (m: Message) => parseTransaction(m.value, this.options.maxEventBytes), this.pipeline), this.retrying('redis', owned));
    this.recordStages(outcome.timings);
    if (outcome.challengerError !== undefined) {
      this.metrics.modelErrors.inc({ role: 'challenger' });
      this.logger.warn({ partition: batch.partition, err: outcome.challengerError }, 'the challenger failed to score a batch; the batch is decided without its scores');
    }
    const out = this.outputs(batch, outcome.decided, outcome.rejected);
    const t0 = performance.now();
    await withRetry(() => this.send(out), this.retrying('kafka', owned));
    this.metrics.stageSeconds.observe({ stage: 'produce' }, (performance.now() - t0) / 1000);
    this.recordOutcomes(outcome.decided, outcome.rejected.map((r) => r.error.code));
    if (this.degraded) {
      this.degraded = false;
      this.updateReady();
    }
    if (!owned()) {
      // The partition was revoked mid-batch: its new owner re-reads from the last commit.
      this.logger.warn({ partition: batch.partition }, 'partition revoked while its batch was decided; offsets not committed');
      return;
    }
    await this.commit(batch);
    const report: BatchReport = {
      partition: batch.partition,
      firstOffset: (messages[0] as Message).offset,
      lastOffset: batch.lastOffset(),
      consumed: messages.length,
      decided: outcome.decided.length,
      alerts: outcome.decided.filter((d) => d.outcome !== 'allow').length,
      deadLettered: outcome.rejected.length,
    };
    for (const listener of this.onBatchListeners) listener(report);
  }

  /** A batch of `fraud-labels`: applied to the label-fed features; malformed labels are dead-lettered. */
  private async applyLabels(batch: Batch, generation: number): Promise<void> {
    const owned = (): boolean => this.generation(slot(batch)) === generation;
    if (!owned()) return;
    const labels: LabelEvent[] = [];
    const rejected: Rejected[] = [];
    batch.messages.forEach((m, index) => {
      try {
        labels.push(parseLabel(m.value, this.options.maxEventBytes));
      } catch (err) {
        if (!(err instanceof InvalidEventError)) throw err;
        rejected.push({ index, error: err });
      }
    });
    await withRetry(() => applyLabels(labels, this.pipeline.features, this.pipeline.store), this.retrying('redis', owned));
    await withRetry(() => this.send(this.outputs(batch, [], rejected)), this.retrying('kafka', owned));
    this.metrics.labels.inc({ outcome: 'valid' }, labels.length);
    if (rejected.length > 0) this.metrics.labels.inc({ outcome: 'dead_letter' }, rejected.length);
    for (const r of rejected) this.metrics.deadLetters.inc({ code: r.error.code });
    if (owned()) await this.commit(batch);
  }

  /** Retries with backoff until it works, the worker stops, or the partition is no longer ours. */
  private retrying(dependency: 'redis' | 'kafka', owned: () => boolean): RetryOptions {
    return {
      maxBackoffMs: this.options.maxBackoffMs,
      shouldStop: () => this.stopping || !owned(),
      onRetry: (err, attempt, waitMs) => this.noteRetry(dependency, err, attempt, waitMs),
    };
  }

  /** Commits the batch's offsets: its partition resumes after its last message. */
  private async commit(batch: Batch): Promise<void> {
    const t0 = performance.now();
    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    await (this.consumer as Consumer).commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
    this.metrics.stageSeconds.observe({ stage: 'commit' }, (performance.now() - t0) / 1000);
  }

  private outputs(batch: Batch, decided: Decided[], rejected: Rejected[]): KafkaJS.TopicMessages[] {
    const { topics, emitDecisions } = this.options;
    const alerts: OutgoingMessage[] = [];
    const decisions: OutgoingMessage[] = [];
    for (const d of decided) {
      const alert = d.outcome !== 'allow';
      if (d.decision === null || (!alert && !emitDecisions)) continue; // most decisions are allows that nobody subscribed to
      const msg = { key: d.decision.accountId, value: decisionJson(d.decision, (batch.messages[d.index] as Message).value) };
      if (alert) alerts.push(msg);
      if (emitDecisions) decisions.push(msg);
    }
    const now = Date.now();
    const dlq = rejected.map(({ index, error }) => {
      const m = batch.messages[index] as Message;
      const source: SourceRecord = { topic: batch.topic, partition: batch.partition, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value };
      return deadLetter(source, error, now);
    });
    return [
      { topic: topics.alerts, messages: alerts },
      { topic: topics.decisions, messages: decisions },
      { topic: topics.dlq, messages: dlq },
    ].filter((t) => t.messages.length > 0);
  }

  private async send(topicMessages: KafkaJS.TopicMessages[]): Promise<void> {
    if (topicMessages.length === 0) return;
    try {
      await (this.producer as Producer).sendBatch({ topicMessages });
    } catch (err) {
      const e = err as { message?: string; retriable?: boolean; fatal?: boolean };
      throw new KafkaError(`produce failed: ${e.message ?? String(err)}`, { retriable: e.retriable !== false || e.fatal === true, fatal: e.fatal === true, cause: err });
    }
  }

  private noteRetry(dependency: 'redis' | 'kafka', err: Error, attempt: number, waitMs: number): void {
    this.metrics.retries.inc({ dependency });
    this.metrics.dependencyErrors.inc({ dependency });
    if (!this.degraded) {
      this.degraded = true;
      this.updateReady();
    }
    this.logger.warn({ dependency, attempt, waitMs: Math.round(waitMs), err: err.message }, 'retrying batch');
  }

  private recordStages(timings: { features: number; score: number; rules: number }): void {
    this.metrics.stageSeconds.observe({ stage: 'features' }, timings.features);
    this.metrics.stageSeconds.observe({ stage: 'score' }, timings.score);
    this.metrics.stageSeconds.observe({ stage: 'rules' }, timings.rules);
  }

  private recordOutcomes(decided: Decided[], dlqCodes: string[]): void {
    const now = Date.now();
    const counts = { allow: 0, review: 0, block: 0 };
    const champion = this.metrics.modelScores.labels('champion');
    const challenger = this.metrics.modelScores.labels('challenger');
    for (const d of decided) {
      counts[d.outcome]++;
      this.metrics.scores.observe(d.score);
      champion.observe(d.modelScore);
      if (d.challengerScore !== null) challenger.observe(d.challengerScore);
      this.metrics.endToEndSeconds.observe(Math.max(0, now - d.eventTimeMs) / 1000);
      if (d.tooLate) this.metrics.lateEvents.inc();
      if (d.duplicate) this.metrics.duplicateEvents.inc();
      for (const h of d.ruleHits) this.metrics.ruleHits.inc({ rule: h.id, mode: 'active' });
      for (const id of d.shadowHits) this.metrics.ruleHits.inc({ rule: id, mode: 'shadow' });
      for (const e of d.ruleErrors) this.metrics.ruleErrors.inc({ rule: e.id });
    }
    for (const [outcome, n] of Object.entries(counts)) if (n > 0) this.metrics.events.inc({ outcome }, n);
    if (dlqCodes.length > 0) this.metrics.events.inc({ outcome: 'dead_letter' }, dlqCodes.length);
    for (const code of dlqCodes) this.metrics.deadLetters.inc({ code });
  }
}
