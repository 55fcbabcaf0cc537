// Connections to the real local Kafka and Redis (started by scripts/services.sh), and
// fresh names per test so tests never share state.
import { randomUUID } from 'node:crypto';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { Redis } from 'ioredis';

export const KAFKA_BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const REDIS_CLUSTER_NODES = process.env.REDIS_CLUSTER_NODES?.split(',');

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

function kafka(): KafkaJS.Kafka {
  return new KafkaJS.Kafka({ 'bootstrap.servers': KAFKA_BROKERS.join(','), log_level: 3 });
}

export async function createTopics(topics: { topic: string; partitions: number; configs?: Readonly<Record<string, string>> }[]): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions, configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })) })) });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(topics: string[]): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

export async function produce(topic: string, messages: { key?: string; value: string | Buffer | null; headers?: Record<string, string>; partition?: number }[]): Promise<void> {
  const producer = kafka().producer({ 'linger.ms': 5 });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 5000) await producer.send({ topic, messages: messages.slice(i, i + 5000) });
  } finally {
    await producer.disconnect();
  }
}

export interface ConsumedMessage {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/**
 * Reads `topic` from the beginning until `count` messages arrived or `timeoutMs` passed (then
 * returns what it has). `isolation`: read_committed (librdkafka's default) skips the records of
 * aborted transactions; read_uncommitted sees them.
 */
export async function consumeAll(topic: string, count: number, timeoutMs = 30_000, isolation: 'read_committed' | 'read_uncommitted' = 'read_committed'): Promise<ConsumedMessage[]> {
  const consumer = kafka().consumer({ 'group.id': uniqueName('reader'), 'auto.offset.reset': 'earliest', 'enable.auto.commit': false, 'js.consumer.max.batch.size': -1, 'isolation.level': isolation });
  const out: ConsumedMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    eachBatch: ({ batch }) => {
      for (const m of batch.messages) {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString();
        out.push({ key: m.key?.toString() ?? null, value: m.value, headers, partition: batch.partition, offset: m.offset });
      }
      if (out.length >= count) done();
      return Promise.resolve();
    },
  });
  const timer = setTimeout(done, timeoutMs);
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  return out;
}

// One admin client per test file for polling committed offsets: a new native client every
// few milliseconds is needless churn. Files that poll close it in afterAll.
let pollingAdmin: Promise<KafkaJS.Admin> | null = null;

export async function committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>> {
  pollingAdmin ??= (async () => {
    const admin = kafka().admin();
    await admin.connect();
    return admin;
  })();
  const [entry] = await (await pollingAdmin).fetchOffsets({ groupId, topics: [topic] });
  return new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
}

/** Messages in the topic now: the sum over its partitions of high watermark minus low. */
export async function topicSize(topic: string): Promise<number> {
  pollingAdmin ??= (async () => {
    const admin = kafka().admin();
    await admin.connect();
    return admin;
  })();
  const offsets = await (await pollingAdmin).fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
}

/** How far the group is behind the topic now: the sum over its partitions of high watermark minus committed offset. */
export async function groupLag(groupId: string, topic: string): Promise<number> {
  pollingAdmin ??= (async () => {
    const admin = kafka().admin();
    await admin.connect();
    return admin;
  })();
  const [ends, committed] = await Promise.all([(await pollingAdmin).fetchTopicOffsets(topic), committedOffsets(groupId, topic)]);
  return ends.reduce((n, p) => n + Number(p.high) - Math.max(Number(p.low), Number(committed.get(p.partition) ?? -1n)), 0);
}

/** Every message in the topic now, from the beginning. */
export async function readAll(topic: string, timeoutMs = 60_000): Promise<ConsumedMessage[]> {
  return consumeAll(topic, await topicSize(topic), timeoutMs);
}

export async function closePollingAdmin(): Promise<void> {
  const admin = pollingAdmin;
  pollingAdmin = null;
  if (admin) await (await admin).disconnect();
}

export function redis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
}
