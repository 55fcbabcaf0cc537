// The detector's Kafka worker: transactions through the pipeline to alerts, decisions and
// dead letters; labels (when a feature is fed by them) into the feature store. Each topic has
// its own group member (partition-consumer.ts), so labels never take a share of the
// transactions' partitions. A batch's offsets are committed after Kafka acknowledged its
// outputs, and count as committed once the broker accepted them.
//
// Every transactions partition is claimed in the feature store before its first batch (an
// epoch that fences its previous owner, and the journal of what that owner decided but did not
// commit): a redelivered transaction is decided on what it observed the first time.
import { randomUUID } from 'node:crypto';
import type { Claim } from '../features/store.js';
import type { EventLimits } from '../contract/decode.js';
import { parseLabel } from '../contract/label.js';
import { parseTransaction } from '../contract/transaction.js';
import { PartitionFencedError } from '../contract/errors.js';
import { isLabelEntity } from '../features/definitions.js';
import { recordOutcomes, recordStages } from '../observability/batch-metrics.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { BatchOutcome, Decided, PipelineDeps } from '../pipeline/process-batch.js';
import type { Rejected } from '../pipeline/validate.js';
import { processBatch } from '../pipeline/process-batch.js';
import { TurnBatcher } from '../pipeline/turn-batcher.js';
import { processLabels } from '../pipeline/process-labels.js';
import { RetryStoppedError, withRetry, type RetryOptions } from '../pipeline/retry.js';
import { ClientCloses } from './client-closes.js';
import type { ClientHealth } from './client-stats.js';
import { createProducer, type KafkaSettings, type Producer } from './client.js';
import { KafkaUsability } from './kafka-usability.js';
import { OutputPath } from './output-path.js';
import { TransactionalOutputs, type TransactionEntry } from './transactions.js';
import { batchOutputs } from './outputs.js';
import { PartitionConsumer, type Batch, type BatchReport, type Message, type PartitionLease } from './partition-consumer.js';
import { ProgressWatch } from './progress.js';
import { groupsUpTo, splitOutcome, together, type ClaimedBatch, type HandedBatch, type PartitionClaim } from './turn-batches.js';

export type { BatchReport };

export interface WorkerOptions {
  kafka: KafkaSettings;
  groupId: string;
  /** The labels consumer's own group. */
  labelsGroupId: string;
  topics: { transactions: string; alerts: string; decisions: string; dlq: string; labels: string };
  emitDecisions: boolean;
  maxBatchSize: number;
  partitionsConcurrency: number;
  /** MAX_EVENT_BYTES and MAX_EVENT_DEPTH: the contract's limits, the same in `replay`. */
  eventLimits: EventLimits;
  maxBackoffMs: number;
  sessionTimeoutMs: number;
  maxPollIntervalMs: number;
  /** How long a drain waits for the broker to accept its last commits (a rebalance in progress refuses them). */
  /** How long a drain may take in all (SHUTDOWN_TIMEOUT_MS less a margin): batches, commits, leaving, flushing. */
  drainBudgetMs: number;
  /** Bytes of transactions (or labels) batches in flight at most, per consumer. */
  maxInFlightBytes: number;
  /** A dead letter's value is cut to this many bytes (dlq.ts). */
  dlqMaxValueBytes: number;
  /** Not healthy once transactions have waited this long with no batch finished (progress.ts). */
  stallMs: number;
  /** exactly-once: each batch's outputs and offsets in one Kafka transaction (transactions.ts). */
  guarantee: 'at-least-once' | 'exactly-once';
  /** How long a finished batch may wait to share a commit (at-least-once) or a transaction (exactly-once) with others. */
  commitIntervalMs: number;
}

/** Where tests put a fault in: around the producer the worker creates. */
export interface WorkerSeams {
  wrapProducer?: (producer: Producer) => Producer;
}

/** What a drain left behind: partitions whose last decided offsets the broker did not accept. */
export interface DrainResult {
  uncommitted: { topic: string; partition: number; offset: string }[];
  /** Clients whose close had not finished when the drain's time was up: the process must not exit normally (client-closes.ts). */
  closing: string[];
}

/** How long a commit may go unanswered before it counts as refused. */
const COMMIT_TIMEOUT_MS = 30_000;
/** Batches of one turn are decided as one while they hold at most this many messages together (turn-batches.ts). */
const COMBINE_UP_TO = 512;
/** How long a revoked partition's batch in flight may take to finish and commit. */
const REVOKE_GRACE_MS = 5_000;

export class DetectorWorker {
  private outputs: OutputPath | null = null;
  private transactions: PartitionConsumer | null = null;
  private labels: PartitionConsumer | null = null;
  private stopping = false;
  private starting: Promise<void> | null = null;
  private running = false;
  private degraded = false;
  private readonly onBatchListeners: ((report: BatchReport) => void)[] = [];
  private readonly onFatalListeners: ((err: Error) => void)[] = [];
  /** A client error the worker cannot go on after; the process should end (run.ts exits non-zero). */
  private fatal: Error | null = null;
  private readonly progress: ProgressWatch;
  private readonly kafkaUsability: KafkaUsability;
  /** Per transactions partition (its lease key): the claim of its current generation. */
  private readonly claims = new Map<string, { generation: number; claim: Promise<PartitionClaim> }>();
  /** Kafka clients' closes in flight. */
  private readonly closes = new ClientCloses();
  /** The transactions batches handed over in one turn, decided together. */
  private readonly decider = new TurnBatcher<HandedBatch, boolean>((items) => this.decideTurn(items));

  constructor(
    private readonly options: WorkerOptions,
    private readonly pipeline: PipelineDeps,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly seams: WorkerSeams = {},
  ) {
    this.progress = new ProgressWatch(options.stallMs);
    this.kafkaUsability = new KafkaUsability(logger);
  }

  /** Connects, joins the groups and starts consuming; resolves once consumption has started. */
  start(): Promise<void> {
    if (this.stopping) return Promise.resolve(); // told to stop before it started: nothing to start
    this.starting ??= this.connectAndRun();
    return this.starting;
  }

  /** The client settings, with the clients' own log lines sent to our logger. */
  private get kafka(): KafkaSettings {
    return { ...this.options.kafka, logger: this.logger };
  }

  private async connectAndRun(): Promise<void> {
    const exactlyOnce = this.options.guarantee === 'exactly-once';
    // One transactional id per worker process: zombies are fenced by the group's generation (KIP-447).
    const created = createProducer(this.kafka, (health) => this.noteHealth('producer', health), exactlyOnce ? `${this.options.kafka.clientId}-${this.options.groupId}-${randomUUID()}` : undefined);
    const producer = this.seams.wrapProducer?.(created) ?? created;
    await producer.connect();
    const transactional = exactlyOnce
      ? new TransactionalOutputs(producer, () => (this.transactions as PartitionConsumer).client(), this.options.commitIntervalMs, this.logger, {
          aborted: () => this.metrics.transactions.inc({ result: 'aborted' }),
          committed: () => this.metrics.transactions.inc({ result: 'committed' }),
        })
      : undefined;
    this.outputs = new OutputPath(producer, { stalled: () => this.updateReady(), fatal: (err) => this.failed(err) }, this.logger, transactional);
    const { topics, groupId } = this.options;
    this.transactions = this.consumer('transactions', groupId, topics.transactions, (batch, lease) => this.decide(batch, lease));
    await this.transactions.start();
    // Labels are read only when some feature is fed by them.
    if (this.pipeline.features.entities.some((e) => isLabelEntity(e.entity))) {
      this.labels = this.consumer('labels', this.options.labelsGroupId, topics.labels, (batch, lease) => this.applyLabels(batch, lease));
      await this.labels.start();
    }
    this.running = true;
    this.updateReady();
    this.logger.info({ topic: topics.transactions, group: groupId, labels: this.labels !== null ? { topic: topics.labels, group: this.options.labelsGroupId } : null }, 'worker consuming');
  }

  private consumer(name: 'transactions' | 'labels', groupId: string, topic: string, handle: (batch: Batch, lease: PartitionLease) => Promise<void>): PartitionConsumer {
    const o = this.options;
    return new PartitionConsumer({
      name,
      kafka: this.kafka,
      groupId,
      topics: [topic],
      maxBatchSize: o.maxBatchSize,
      concurrency: o.partitionsConcurrency,
      maxInFlightBytes: o.maxInFlightBytes,
      sessionTimeoutMs: o.sessionTimeoutMs,
      maxPollIntervalMs: o.maxPollIntervalMs,
      maxBackoffMs: o.maxBackoffMs,
      revokeGraceMs: REVOKE_GRACE_MS,
      closes: this.closes,
      commitTimeoutMs: COMMIT_TIMEOUT_MS,
      commitIntervalMs: o.commitIntervalMs,
      // Exactly-once: a transactions batch's offsets are committed in its transaction.
      commitsInHandler: name === 'transactions' && o.guarantee === 'exactly-once',
      logger: this.logger,
      handle,
      committed: (lease, offset, reports) => this.committed(name, lease, offset, reports),
      refused: () => this.metrics.commitFailures.inc({ consumer: name }),
      load: (load) => {
        this.metrics.inFlightBytes.set({ consumer: name }, load.bytes);
        this.metrics.pausedPartitions.set({ consumer: name }, load.paused);
      },
      health: (health) => {
        if (name === 'transactions') this.progress.lagIs(health.lag);
        this.noteHealth(name, health);
      },
    });
  }

  /** A client's statistics: not ready while Kafka is not usable (kafka-usability.ts). */
  private noteHealth(client: string, health: ClientHealth): void {
    if (this.kafkaUsability.note(client, health)) this.updateReady();
  }

  /**
   * Stops fetching, lets the batches taken finish, waits for their commits to be accepted,
   * leaves the groups and flushes. Resolves with the partitions whose commits did not go through.
   */
  async stop(): Promise<DrainResult> {
    if (this.stopping) return { uncommitted: [], closing: this.closes.pending() };
    this.stopping = true;
    // A stop during start-up (a pod told to go right away) lets the start finish first, so
    // the clients are stopped from a known state and the process still exits cleanly.
    await this.starting?.catch(() => undefined);
    this.running = false;
    this.updateReady();
    // One deadline for the whole drain. Leaving the group and the final flush keep their share:
    // a client closing in the middle of a rebalance waits for it (up to session.timeout.ms).
    const deadline = Date.now() + this.options.drainBudgetMs;
    const leftBy = deadline - Math.min(3_000, this.options.drainBudgetMs / 5);
    const commitsBy = leftBy - Math.min(5_000, this.options.drainBudgetMs / 5);
    const [tx, labels] = await Promise.all([this.transactions?.stop(commitsBy, leftBy) ?? [], this.labels?.stop(commitsBy, leftBy) ?? []]);
    await this.outputs?.close(Math.max(500, deadline - Date.now()), this.closes);
    // A consumer that has not left yet is in a rebalance: it is served until the drain's time is up.
    const closing = await this.closes.settled(deadline - Date.now());
    const uncommitted = [...tx, ...labels];
    for (const u of uncommitted) this.logger.error(u, 'drained with decided offsets the broker did not accept; the partition\'s next owner reads them again');
    if (closing.length > 0) this.logger.error({ clients: closing }, 'Kafka clients still closing when the drain\'s time was up');
    this.logger.info({ uncommitted: uncommitted.length }, 'worker stopped');
    return { uncommitted, closing };
  }

  /** The Kafka clients whose close has started and not finished (client-closes.ts). */
  closingClients(): string[] {
    return this.closes.pending();
  }

  /** Told of each transactions batch once the broker accepted its offsets. */
  onBatch(listener: (report: BatchReport) => void): void {
    this.onBatchListeners.push(listener);
  }

  /** Told once of a fatal client error: the worker cannot go on, and the process should end. */
  onFatal(listener: (err: Error) => void): void {
    this.onFatalListeners.push(listener);
  }

  /**
   * Alive unless a client failed fatally, or transactions have waited longer than `stallMs`
   * with no batch finished (stuck: a restart is the cure). A draining worker is alive, only not ready.
   */
  healthy(): boolean {
    return this.fatal === null && !this.progress.stuck();
  }

  /** Milliseconds transactions have waited with no batch finished (0: none waiting). */
  stalledForMs(): number {
    return this.progress.stalledForMs();
  }

  ready(): boolean {
    return this.running && !this.stopping && !this.degraded && !(this.outputs?.stalled() ?? false) && !this.kafkaUsability.blind() && this.fatal === null;
  }

  private updateReady(): void {
    this.metrics.ready.set(this.ready() ? 1 : 0);
  }

  /** The partition's journal id: per group, topic and partition. */
  private journalId(lease: PartitionLease): string {
    return `${this.options.groupId}/${lease.topic}/${lease.partition}`;
  }

  /** Claims the partition once per generation: fences its previous owner and reads its journal. */
  private claimOf(lease: PartitionLease): Promise<PartitionClaim> {
    const current = this.claims.get(lease.key);
    if (current?.generation === lease.generation) return current.claim;
    const id = this.journalId(lease);
    const claim = withRetry(() => this.pipeline.store.claim(id), this.retrying('redis', () => !lease.owned())).then((c: Claim): PartitionClaim => {
      if (c.record.size > 0) this.logger.info({ partition: lease.partition, journaled: c.record.size, through: c.record.maxOffset }, 'partition claimed: events its previous owner decided but did not commit are decided again as they were');
      return { target: { id, epoch: c.epoch }, recorded: c.record.size > 0 ? c.record : undefined };
    });
    const entry = { generation: lease.generation, claim };
    this.claims.set(lease.key, entry);
    claim.catch(() => {
      if (this.claims.get(lease.key) === entry) this.claims.delete(lease.key);
    });
    return claim;
  }

  private async decide(batch: Batch, lease: PartitionLease): Promise<void> {
    this.progress.began();
    let done = false;
    try {
      done = await this.decider.submit({ batch, lease });
    } finally {
      this.progress.ended(done);
    }
  }

  /** A turn's batches: the small ones in groups decided as one, each large one alone, all at once. */
  private async decideTurn(items: readonly HandedBatch[]): Promise<PromiseSettledResult<boolean>[]> {
    const groups = groupsUpTo(items, COMBINE_UP_TO);
    if (groups.length === 1) return this.decideTogether(items);
    return (await Promise.all(groups.map((g) => this.decideTogether(g)))).flat();
  }

  /**
   * The batches of the partitions handed over in one turn, decided as one: one store call, one
   * model run, one pass of the rules (each event journaled in its own partition's journal).
   * Then each partition's outputs are sent, and its offsets committed, on their own. Per batch:
   * true once its outputs are acknowledged; false when its partition was revoked or claimed by
   * another worker meanwhile (that partition drops out and the others go on); its error when
   * its claim or its send failed.
   */
  private async decideTogether(items: readonly HandedBatch[]): Promise<PromiseSettledResult<boolean>[]> {
    const claims = await Promise.allSettled(items.map((i) => this.claimOf(i.lease)));
    const results: PromiseSettledResult<boolean>[] = claims.map((c) => (c.status === 'rejected' ? c : { status: 'fulfilled', value: false }));
    const claimed: ClaimedBatch[] = [];
    claims.forEach((c, k) => {
      if (c.status === 'fulfilled') claimed.push({ ...(items[k] as HandedBatch), claim: c.value, k });
    });
    for (const { batch } of claimed) this.metrics.consumerLag.set({ partition: String(batch.partition) }, Number(batch.offsetLag()));
    const parse = (m: Message) => parseTransaction(m.value, this.options.eventLimits);
    let decided: { members: ClaimedBatch[]; starts: number[]; outcome: BatchOutcome };
    try {
      decided = await withRetry(async () => {
        // Tried again without a partition another worker has claimed meanwhile (noteFenced).
        const members = claimed.filter((m) => m.lease.owned());
        const { messages, starts, journal } = together(members);
        const outcome = await processBatch(messages, parse, this.pipeline, journal).catch((err: unknown) => this.noteFenced(err, members));
        return { members, starts, outcome };
      }, this.retrying('redis', () => claimed.every((m) => !m.lease.owned())));
    } catch (err) {
      // A failure retrying cannot fix (a bug one batch's events trigger) is kept to that batch:
      // together they are decided again one by one, so only its partition is rewound.
      const isolate = claimed.length > 1 && !(err instanceof RetryStoppedError) && !this.stopping;
      const alone = isolate ? await Promise.all(claimed.map((m) => this.decideTogether([{ batch: m.batch, lease: m.lease }]))) : undefined;
      claimed.forEach((m, i) => (results[m.k] = alone?.[i]?.[0] ?? { status: 'rejected', reason: err }));
      return results;
    }
    const { members, starts, outcome } = decided;
    this.metrics.batchSize.observe(members.reduce((n, m) => n + m.batch.messages.length, 0));
    recordStages(this.metrics, outcome.timings);
    if (outcome.challengerError !== undefined) {
      this.metrics.modelErrors.inc({ role: 'challenger' });
      this.logger.warn({ partitions: members.map((m) => m.batch.partition), err: outcome.challengerError }, 'the challenger failed to score a batch; the batch is decided without its scores');
    }
    const parts = splitOutcome(outcome, starts);
    await Promise.all(
      members.map(async (m, i) => {
        const { batch, lease, claim } = m;
        if (claim.recorded !== undefined && Number(batch.lastOffset()) >= claim.recorded.maxOffset) claim.recorded = undefined;
        // Revoked meanwhile: its next owner decides it again, on what the journal recorded.
        if (!lease.owned()) return;
        const part = parts[i] as { decided: Decided[]; rejected: Rejected[] };
        const out = batchOutputs(batch, part.decided, part.rejected, this.options.topics, this.options.emitDecisions, this.options.dlqMaxValueBytes);
        const t0 = performance.now();
        try {
          await this.send(out, lease, { topic: batch.topic, partition: batch.partition, next: BigInt(batch.lastOffset()) + 1n });
        } catch (err) {
          results[m.k] = { status: 'rejected', reason: err };
          return;
        }
        this.metrics.stageSeconds.observe({ stage: 'produce' }, (performance.now() - t0) / 1000);
        recordOutcomes(this.metrics, part.decided, part.rejected.map((r) => r.error.code));
        this.recovered();
        results[m.k] = { status: 'fulfilled', value: true };
      }),
    );
    return results;
  }

  /** A store call refused because another worker claimed some of its partitions: stop handling those until they are assigned here again. */
  private noteFenced(err: unknown, members: readonly HandedBatch[]): never {
    if (err instanceof PartitionFencedError) {
      for (const { lease } of members) {
        if (!err.partitions.includes(this.journalId(lease)) || !lease.owned()) continue;
        this.transactions?.fence(lease.key);
        this.metrics.fencedBatches.inc();
        this.logger.warn({ partition: lease.partition }, 'another worker has claimed this partition; its batches here are dropped');
      }
    }
    throw err;
  }

  /** A batch of `fraud-labels`: applied to the label-fed features; malformed labels are dead-lettered. */
  private async applyLabels(batch: Batch, lease: PartitionLease): Promise<void> {
    const parse = (m: Message) => parseLabel(m.value, this.options.eventLimits);
    const { applied, rejected } = await withRetry(() => processLabels(batch.messages, parse, this.pipeline), this.retrying('redis', () => !lease.owned()));
    if (!lease.owned()) return;
    await this.send(batchOutputs(batch, [], rejected, this.options.topics, false, this.options.dlqMaxValueBytes), lease);
    this.metrics.labels.inc({ outcome: 'valid' }, applied);
    if (rejected.length > 0) this.metrics.labels.inc({ outcome: 'dead_letter' }, rejected.length);
    for (const r of rejected) this.metrics.deadLetters.inc({ code: r.error.code });
    this.recovered();
  }

  /** Produces a batch's outputs, retried until Kafka acknowledged them (or the partition is no longer ours). */
  private send(out: ReturnType<typeof batchOutputs>, lease: PartitionLease, offset?: TransactionEntry['offset']): Promise<void> {
    return (this.outputs as OutputPath).send(out, this.retrying('kafka', () => !lease.owned()), offset);
  }

  /** A fatal client error: not healthy nor ready from now on, and the listeners told (once). */
  private failed(err: Error): void {
    if (this.fatal !== null) return;
    this.fatal = err;
    this.transactions?.halt();
    this.labels?.halt();
    this.logger.error({ err: err.message }, 'fatal Kafka client error: the worker cannot go on with this client and stops; the process exits non-zero so it is restarted');
    this.updateReady();
    for (const listener of this.onFatalListeners) listener(err);
  }

  /** The broker accepted a partition's offsets: its journal entries below them are dropped, its batches reported. */
  private committed(name: 'transactions' | 'labels', lease: PartitionLease, offset: bigint, reports: readonly BatchReport[]): void {
    if (name !== 'transactions') return;
    this.pipeline.store.release(this.journalId(lease), Number(offset)).catch((err: unknown) => {
      // Harmless: entries below a committed offset are never read back; the next release takes them.
      this.logger.debug({ partition: lease.partition, err: (err as Error).message }, 'could not drop committed journal entries');
    });
    for (const report of reports) for (const listener of this.onBatchListeners) listener(report);
  }

  /** Retries with backoff until it works, the worker stops, or what it is for is `gone` (its partitions are no longer ours). */
  private retrying(dependency: 'redis' | 'kafka', gone: () => boolean): RetryOptions {
    return {
      maxBackoffMs: this.options.maxBackoffMs,
      shouldStop: () => this.stopping || gone(),
      onRetry: (err, attempt, waitMs) => this.noteRetry(dependency, err, attempt, waitMs),
    };
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

  private recovered(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.updateReady();
  }
}
