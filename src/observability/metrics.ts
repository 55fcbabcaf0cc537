// The detector's Prometheus metrics, registered on a registry passed in (never the global one).
// Labels are bounded: outcomes, codes, stages, partitions, rule ids. Never account or card ids.
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import { INVALID_EVENT_CODES } from '../contract/errors.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(registry: Registry) {
  collectDefaultMetrics({ register: registry, prefix: 'fraud_detector_process_' });
  // prom-client names these gauges `_total`, which Prometheus reserves for counters (promtool check metrics refuses them).
  for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) registry.removeSingleMetric(`fraud_detector_process_nodejs_${name}`);
  const r = [registry];
  return {
    events: new Counter({ name: 'fraud_detector_events_total', help: 'Consumed events by outcome (allow, review, block, dead_letter).', labelNames: ['outcome'] as const, registers: r }),
    deadLetters: new Counter({ name: 'fraud_detector_dead_letters_total', help: 'Events sent to the dead-letter topic, by error code.', labelNames: ['code'] as const, registers: r }),
    labels: new Counter({ name: 'fraud_detector_labels_total', help: 'Labels read from the labels topic, by outcome (valid: applied to features, a redelivered one changing nothing; dead_letter).', labelNames: ['outcome'] as const, registers: r }),
    transactions: new Counter({ name: 'fraud_detector_transactions_total', help: 'Exactly-once: Kafka transactions of batch outputs and offsets, by result (committed, aborted).', labelNames: ['result'] as const, registers: r }),
    inFlightBytes: new Gauge({ name: 'fraud_detector_inflight_bytes', help: 'Bytes of the batches in flight (keys and values), per consumer; at most MAX_INFLIGHT_BYTES.', labelNames: ['consumer'] as const, registers: r }),
    pausedPartitions: new Gauge({ name: 'fraud_detector_paused_partitions', help: 'Partitions paused because the batches in flight filled their bound (a dependency is slow or down); the member keeps polling.', labelNames: ['consumer'] as const, registers: r }),
    futureEvents: new Counter({ name: 'fraud_detector_future_events_total', help: 'Events dated more than MAX_FUTURE_SKEW_MS ahead of the clock: decided on the windows as of that bound, not applied to features.', registers: r }),
    lateEvents: new Counter({ name: 'fraud_detector_late_events_total', help: 'Events older than the allowed lateness: decided, not applied to features.', registers: r }),
    duplicateEvents: new Counter({ name: 'fraud_detector_duplicate_events_total', help: 'Events whose transactionId was already applied to features.', registers: r }),
    redeliveredEvents: new Counter({ name: 'fraud_detector_redelivered_events_total', help: 'Events read again after a crash, a rebalance or a refused commit, decided on what their partition journal recorded the first time.', registers: r }),
    commitFailures: new Counter({ name: 'fraud_detector_commit_failures_total', help: 'Offset commits the broker refused (or did not answer), by consumer (transactions, labels).', labelNames: ['consumer'] as const, registers: r }),
    fencedBatches: new Counter({ name: 'fraud_detector_fenced_batches_total', help: 'Batches dropped because another worker had claimed their partition (a rebalance this worker had not heard of yet).', registers: r }),
    batchSize: new Histogram({ name: 'fraud_detector_batch_size', help: 'Messages per processed batch.', buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000], registers: r }),
    stageSeconds: new Histogram({ name: 'fraud_detector_stage_duration_seconds', help: 'Time per batch spent in each stage.', labelNames: ['stage'] as const, buckets: LATENCY_BUCKETS, registers: r }),
    endToEndSeconds: new Histogram({ name: 'fraud_detector_end_to_end_latency_seconds', help: 'From event time to the decision being acknowledged by Kafka.', buckets: LATENCY_BUCKETS, registers: r }),
    consumerLag: new Gauge({ name: 'fraud_detector_consumer_lag', help: 'Messages behind the high watermark, per partition, at the last batch.', labelNames: ['partition'] as const, registers: r }),
    ruleHits: new Counter({ name: 'fraud_detector_rule_hits_total', help: 'Rule hits by rule id and mode (active, shadow).', labelNames: ['rule', 'mode'] as const, registers: r }),
    ruleErrors: new Counter({ name: 'fraud_detector_rule_errors_total', help: 'Rules that failed while running, by rule id.', labelNames: ['rule'] as const, registers: r }),
    retries: new Counter({ name: 'fraud_detector_dependency_retries_total', help: 'Retried operations by dependency (redis, kafka).', labelNames: ['dependency'] as const, registers: r }),
    dependencyErrors: new Counter({ name: 'fraud_detector_dependency_errors_total', help: 'Failed operations by dependency (redis, kafka).', labelNames: ['dependency'] as const, registers: r }),
    featureConflicts: new Counter({ name: 'fraud_detector_feature_conflicts_total', help: 'Entity states recomputed because another worker updated them first.', registers: r }),
    ready: new Gauge({ name: 'fraud_detector_ready', help: '1 when the worker is consuming and its dependencies answer.', registers: r }),
    modelInfo: new Gauge({ name: 'fraud_detector_model_info', help: 'The serving models by role (champion, challenger) and version (value 1).', labelNames: ['version', 'role'] as const, registers: r }),
    modelErrors: new Counter({ name: 'fraud_detector_model_errors_total', help: 'Batches a model failed to score, by role (a challenger failure costs only its scores).', labelNames: ['role'] as const, registers: r }),
    modelScores: new Histogram({ name: 'fraud_detector_model_score', help: 'Model scores (before rules) by role: the champion decides, the challenger is scored in shadow.', labelNames: ['role'] as const, buckets: [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99], registers: r }),
    rulesInfo: new Gauge({ name: 'fraud_detector_rules_info', help: 'The active rule set version (value 1).', labelNames: ['version'] as const, registers: r }),
    ruleBreakerOpen: new Gauge({ name: 'fraud_detector_rule_breaker_open', help: 'Per rule with a breaker: 1 while it is open (the rule runs as shadow), else 0.', labelNames: ['rule'] as const, registers: r }),
    reloads: new Counter({ name: 'fraud_detector_reloads_total', help: 'Rule-set reloads by result (success, failure).', labelNames: ['kind', 'result'] as const, registers: r }),
    scores: new Histogram({ name: 'fraud_detector_score', help: 'Distribution of final scores.', buckets: [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99], registers: r }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Codes an event or a label is dead-lettered with. */
const DEAD_LETTER_CODES = INVALID_EVENT_CODES;

/**
 * Every known label value starts at 0, so rates and ratios (the recording rules, the
 * dashboard, the alerts) have a series from the first scrape instead of none until the first
 * error.
 */
export function initialiseMetrics(metrics: Metrics): void {
  for (const outcome of ['allow', 'review', 'block', 'dead_letter']) metrics.events.inc({ outcome }, 0);
  for (const code of DEAD_LETTER_CODES) metrics.deadLetters.inc({ code }, 0);
  for (const outcome of ['valid', 'dead_letter']) metrics.labels.inc({ outcome }, 0);
  for (const dependency of ['redis', 'kafka']) {
    metrics.retries.inc({ dependency }, 0);
    metrics.dependencyErrors.inc({ dependency }, 0);
  }
  for (const kind of ['rules', 'model']) for (const result of ['success', 'failure']) metrics.reloads.inc({ kind, result }, 0);
  for (const role of ['champion', 'challenger']) metrics.modelErrors.inc({ role }, 0);
  for (const consumer of ['transactions', 'labels']) {
    metrics.commitFailures.inc({ consumer }, 0);
    metrics.inFlightBytes.set({ consumer }, 0);
    metrics.pausedPartitions.set({ consumer }, 0);
  }
  for (const result of ['committed', 'aborted']) metrics.transactions.inc({ result }, 0);
  metrics.lateEvents.inc(0);
  metrics.futureEvents.inc(0);
  metrics.duplicateEvents.inc(0);
  metrics.redeliveredEvents.inc(0);
  metrics.fencedBatches.inc(0);
  metrics.featureConflicts.inc(0);
}

/** A rule set's rules at 0 hits and errors, in both modes. */
export function initialiseRuleMetrics(metrics: Metrics, ruleIds: readonly string[]): void {
  for (const rule of ruleIds) {
    for (const mode of ['active', 'shadow']) metrics.ruleHits.inc({ rule, mode }, 0);
    metrics.ruleErrors.inc({ rule }, 0);
  }
}
