// Builds the confluent-kafka-javascript clients from our configuration; the only place their settings live.
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import { clientHealth, type ClientHealth, type StatsEvent } from './client-stats.js';
import { kafkaSecurity } from './security.js';

export type Consumer = KafkaJS.Consumer;
export type Producer = KafkaJS.Producer;
export type Admin = KafkaJS.Admin;

export interface KafkaSettings {
  brokers: readonly string[];
  clientId: string;
  /** librdkafka's security settings (TLS, SASL), only those configured. */
  security: Record<string, string>;
  /** Where the client's own log lines go (JSON lines, `component: kafka-client`); the console when absent. */
  logger?: Logger;
  /** Caps on librdkafka's own buffers: a consumer's pre-fetched messages, a producer's unsent ones (KiB). */
  queues?: { consumerKbytes: number; producerKbytes: number };
}

export function kafkaSettings(config: Config): KafkaSettings {
  return { brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, security: kafkaSecurity(config), queues: { consumerKbytes: config.KAFKA_CONSUMER_QUEUE_KBYTES, producerKbytes: config.KAFKA_PRODUCER_QUEUE_KBYTES } };
}

function client(settings: KafkaSettings): KafkaJS.Kafka {
  return new KafkaJS.Kafka({ 'bootstrap.servers': settings.brokers.join(','), 'client.id': settings.clientId, log_level: 3, ...settings.security });
}

/**
 * Sends a client's own log lines (the package prints them to the console as objects) to our
 * logger, as JSON lines with `component: kafka-client`. librdkafka's errors (a broker
 * connection refused, a transport failure) are transient and retried by the client or by the
 * worker, which logs what they cost, so they are warnings here. The package's compatibility
 * mode would take a logger too, but it also changes client defaults (producer retries).
 */
function logThrough<T extends { logger(): KafkaJS.Logger }>(kafkaClient: T, logger: Logger | undefined): T {
  if (logger === undefined) return kafkaClient;
  const child = logger.child({ component: 'kafka-client' });
  const at = (level: 'debug' | 'info' | 'warn') => (message: string, extra?: { fac?: string; name?: string }) => child[level]({ fac: extra?.fac, client: extra?.name }, message);
  Object.assign(kafkaClient.logger(), { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('warn') });
  return kafkaClient;
}

/** librdkafka's RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS (the package's CODES is not an ESM named export). */
const ERR_ASSIGN_PARTITIONS = -175;

export interface TopicPartition {
  topic: string;
  partition: number;
}

/**
 * Told of assignments, and of revocations before the client lets the partitions go: the
 * client awaits `revoked` (a revoked, not lost, partition's work in flight can finish and
 * commit meanwhile). `lost`: the group has already given the partitions to others.
 */
export interface RebalanceListener {
  assigned(partitions: TopicPartition[]): Promise<void> | void;
  revoked(partitions: TopicPartition[], lost: boolean): Promise<void> | void;
}

export interface ConsumerOptions {
  groupId: string;
  maxBatchSize: number;
  startAt?: 'earliest' | 'latest';
  /** How long the broker waits for a heartbeat before giving the member's partitions away. */
  sessionTimeoutMs?: number;
  /** How long the member may go without polling before it leaves the group. */
  maxPollIntervalMs?: number;
  rebalance?: RebalanceListener;
  /** Every 2 s: what the client's statistics say of its cluster (client-stats.ts). */
  onHealth?: (health: ClientHealth) => void;
}

/** librdkafka's statistics every 2 s, read into a ClientHealth. */
function statistics(onHealth: ((health: ClientHealth) => void) | undefined): Record<string, unknown> {
  if (onHealth === undefined) return {};
  return {
    'statistics.interval.ms': 2000,
    stats_cb: (event: StatsEvent) => {
      const health = clientHealth(event);
      if (health !== null) onHealth(health);
    },
  };
}

export function createConsumer(settings: KafkaSettings, options: ConsumerOptions): Consumer {
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 15_000;
  const { rebalance } = options;
  const consumer = client(settings).consumer({
    'group.id': options.groupId,
    'enable.auto.commit': false,
    'auto.offset.reset': options.startAt ?? 'earliest',
    // Never the records of aborted transactions (exactly-once output, transactions.ts).
    'isolation.level': 'read_committed',
    'partition.assignment.strategy': 'cooperative-sticky',
    // Without these the KafkaJS-compatible API hands out at most 32 messages per batch.
    'js.consumer.max.batch.size': options.maxBatchSize,
    'js.consumer.max.cache.size.per.worker.ms': 1500,
    'fetch.wait.max.ms': 50,
    'session.timeout.ms': sessionTimeoutMs,
    'heartbeat.interval.ms': Math.max(1000, Math.floor(sessionTimeoutMs / 5)),
    'max.poll.interval.ms': Math.max(sessionTimeoutMs, options.maxPollIntervalMs ?? 300_000),
    // librdkafka pre-fetches up to 64 MiB by default, on top of what the worker holds.
    ...(settings.queues && { 'queued.max.messages.kbytes': settings.queues.consumerKbytes }),
    ...statistics(options.onHealth),
    ...(rebalance && {
      // Awaited by the client; its own assign/unassign runs after this.
      rebalance_cb: async (err: { code: number }, assignment: TopicPartition[], fns: { assignmentLost(): boolean }) => {
        if (err.code === ERR_ASSIGN_PARTITIONS) await rebalance.assigned(assignment);
        else await rebalance.revoked(assignment, fns.assignmentLost());
      },
    }),
  });
  return logThrough(consumer, settings.logger);
}

/** `transactionalId`: a transactional producer (exactly-once output, transactions.ts). */
export function createProducer(settings: KafkaSettings, onHealth?: (health: ClientHealth) => void, transactionalId?: string): Producer {
  const producer = client(settings).producer({
    'enable.idempotence': true,
    acks: -1,
    // An alert waits at most 1 ms for company. A batch's outputs are handed over at once, so
    // they share requests whatever the linger; a longer one only delayed alerts (bench/e2e.ts).
    'linger.ms': 1,
    'batch.num.messages': 10_000,
    'compression.type': 'lz4',
    'message.timeout.ms': 30_000,
    // A worker killed mid-transaction leaves it open, and read_committed readers of the
    // partitions it wrote wait behind it until the coordinator aborts it: 10 s, not the
    // client's default 60 s (a batch's transaction takes milliseconds). A message may not
    // wait longer than its transaction.
    ...(transactionalId !== undefined && { 'transactional.id': transactionalId, 'transaction.timeout.ms': 10_000, 'message.timeout.ms': 10_000 }),
    // Unsent messages wait here (1 GiB by default); when it is full, a send fails and is retried.
    ...(settings.queues && { 'queue.buffering.max.kbytes': settings.queues.producerKbytes }),
    ...statistics(onHealth),
    // Connections to every broker, kept up (and retried when lost): the statistics then show a
    // broker that went down even when this producer had nothing to send it.
    ...(onHealth && { 'enable.sparse.connections': false }),
  });
  return logThrough(producer, settings.logger);
}

export function createAdmin(settings: KafkaSettings): Admin {
  return client(settings).admin();
}

/** An admin client whose own log lines (a refused handshake, say) go to `logger` instead of the console. */
export function createListeningAdmin(settings: KafkaSettings, logger: KafkaJS.Logger): Admin {
  return client(settings).admin({ kafkaJS: { logger } });
}
