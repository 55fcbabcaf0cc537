// The worker's options from the configuration. Apart from build.ts, which the offline
// commands' threads load too: this imports the Kafka client, whose native addon loads on one
// thread of a process only.
import type { Config } from '../config.js';
import { kafkaSettings } from '../kafka/client.js';
import type { WorkerOptions } from '../kafka/worker.js';
import { eventLimits } from './build.js';

export function workerOptions(config: Config): WorkerOptions {
  return {
    kafka: kafkaSettings(config),
    groupId: config.KAFKA_GROUP_ID,
    labelsGroupId: config.KAFKA_LABELS_GROUP_ID ?? `${config.KAFKA_GROUP_ID}-labels`,
    topics: { transactions: config.TOPIC_TRANSACTIONS, alerts: config.TOPIC_ALERTS, decisions: config.TOPIC_DECISIONS, dlq: config.TOPIC_DLQ, labels: config.TOPIC_LABELS },
    emitDecisions: config.EMIT_DECISIONS,
    maxBatchSize: config.BATCH_MAX_SIZE,
    partitionsConcurrency: config.PARTITIONS_CONCURRENCY,
    eventLimits: eventLimits(config),
    maxBackoffMs: config.RETRY_MAX_BACKOFF_MS,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    maxPollIntervalMs: config.KAFKA_MAX_POLL_INTERVAL_MS,
    // Within the hard bound, leaving time to close the Redis connections and the HTTP server.
    drainBudgetMs: Math.max(1000, config.SHUTDOWN_TIMEOUT_MS - 2000),
    dlqMaxValueBytes: config.DLQ_MAX_VALUE_BYTES,
    maxInFlightBytes: config.MAX_INFLIGHT_BYTES,
    guarantee: config.PROCESSING_GUARANTEE,
    commitIntervalMs: config.COMMIT_INTERVAL_MS,
    stallMs: config.HEALTH_STALL_MS,
  };
}
