// Builds the confluent-kafka-javascript clients from our configuration; the only place their settings live.
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type { Config } from '../config.js';

export type Consumer = KafkaJS.Consumer;
export type Producer = KafkaJS.Producer;
export type Admin = KafkaJS.Admin;

export interface KafkaSettings {
  brokers: readonly string[];
  clientId: string;
  /** librdkafka's security settings (TLS, SASL), only those configured. */
  security: Record<string, string>;
}

export function kafkaSettings(config: Config): KafkaSettings {
  const security: Record<string, string> = { 'security.protocol': config.KAFKA_SECURITY_PROTOCOL };
  if (config.KAFKA_SASL_MECHANISM !== undefined) security['sasl.mechanisms'] = config.KAFKA_SASL_MECHANISM;
  if (config.KAFKA_SASL_USERNAME !== undefined) security['sasl.username'] = config.KAFKA_SASL_USERNAME;
  if (config.KAFKA_SASL_PASSWORD !== undefined) security['sasl.password'] = config.KAFKA_SASL_PASSWORD;
  if (config.KAFKA_SSL_CA_LOCATION !== undefined) security['ssl.ca.location'] = config.KAFKA_SSL_CA_LOCATION;
  return { brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, security };
}

function client(settings: KafkaSettings): KafkaJS.Kafka {
  return new KafkaJS.Kafka({ 'bootstrap.servers': settings.brokers.join(','), 'client.id': settings.clientId, log_level: 3, ...settings.security });
}

/** librdkafka's RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS (the package's CODES is not an ESM named export). */
const ERR_REVOKE_PARTITIONS = -174;

/** Told, before the client lets them go, which partitions are revoked or lost. */
export type RevokeListener = (partitions: { topic: string; partition: number }[]) => void;

export function createConsumer(settings: KafkaSettings, groupId: string, maxBatchSize: number, startAt: 'earliest' | 'latest' = 'earliest', onRevoke?: RevokeListener): Consumer {
  return client(settings).consumer({
    'group.id': groupId,
    'enable.auto.commit': false,
    'auto.offset.reset': startAt,
    'partition.assignment.strategy': 'cooperative-sticky',
    // Without these the KafkaJS-compatible API hands out at most 32 messages per batch.
    'js.consumer.max.batch.size': maxBatchSize,
    'js.consumer.max.cache.size.per.worker.ms': 1500,
    'fetch.wait.max.ms': 50,
    'session.timeout.ms': 15_000,
    'heartbeat.interval.ms': 3000,
    ...(onRevoke && {
      // The client's own assign/unassign still runs after this.
      rebalance_cb: (err: { code: number }, assignment: { topic: string; partition: number }[]) => {
        if (err.code === ERR_REVOKE_PARTITIONS) onRevoke(assignment);
      },
    }),
  });
}

export function createProducer(settings: KafkaSettings): Producer {
  return client(settings).producer({
    'enable.idempotence': true,
    acks: -1,
    'linger.ms': 5,
    'batch.num.messages': 10_000,
    'compression.type': 'lz4',
    'message.timeout.ms': 30_000,
  });
}

export function createAdmin(settings: KafkaSettings): Admin {
  return client(settings).admin();
}
