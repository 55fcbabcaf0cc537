// Reads topics from their first record up to the end offsets they had when the read began,
// as EosTestDriver does: a read that cannot reach those offsets fails instead of returning
// part of a topic (a partial read would show up as lost events). It reads read_committed.
// With transactions (`transactional`), a partition's last offsets are transaction markers,
// which no reader is handed, so its end cannot be seen: the read ends once nothing has
// arrived for IDLE_MS. The topics are read after every worker drained, when nothing is being
// written, so an idle read has reached the end; an input with no committed output still shows
// up as lost.
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { randomUUID } from 'node:crypto';

export interface TopicRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/** With transactions: how long nothing may arrive before the read counts as done. */
const IDLE_MS = 5_000;

export async function readToEnd(brokers: string, topics: string[], timeoutMs = 120_000, transactional = false): Promise<Map<string, TopicRecord[]>> {
  const kafka = new KafkaJS.Kafka({ 'bootstrap.servers': brokers, 'client.id': 'fd-faults-reader', log_level: 0 });
  // A killed worker's open transaction holds read_committed readers back until it times out.
  if (transactional) await noOpenTransactions(kafka, topics, timeoutMs);
  const ends = await endOffsets(kafka, topics);
  const out = new Map<string, TopicRecord[]>(topics.map((t) => [t, []]));
  /** Partitions not yet read to their end offset, as `topic/partition`. */
  const remaining = new Set([...ends].filter(([, end]) => end.high > end.low).map(([tp]) => tp));
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ 'group.id': `fd-faults-reader-${randomUUID()}`, 'auto.offset.reset': 'earliest', 'enable.auto.commit': false, 'js.consumer.max.batch.size': -1, 'isolation.level': 'read_committed' });
  let lastArrival = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics });
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      eachBatch: ({ batch }) => {
        lastArrival = Date.now();
        const tp = `${batch.topic}/${batch.partition}`;
        const end = ends.get(tp)?.high ?? 0n;
        const records = out.get(batch.topic) as TopicRecord[];
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset >= end) break;
          records.push({ topic: batch.topic, partition: batch.partition, offset, key: m.key?.toString() ?? null, value: m.value, headers: headerStrings(m.headers) });
          if (offset === end - 1n) remaining.delete(tp);
        }
        if (remaining.size === 0) done();
        return Promise.resolve();
      },
    });
    const timer = setTimeout(done, timeoutMs);
    const idle = transactional ? setInterval(() => Date.now() - lastArrival > IDLE_MS && done(), 500) : undefined;
    await finished;
    clearTimeout(timer);
    clearInterval(idle);
    if (transactional) remaining.clear();
    if (remaining.size > 0) throw new Error(`could not read ${[...remaining].join(', ')} to their end offsets within ${timeoutMs} ms`);
  } finally {
    await consumer.disconnect();
  }
  for (const records of out.values()) records.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  return out;
}

/** Waits until every partition's last stable offset is its high watermark: no transaction left open. */
async function noOpenTransactions(kafka: KafkaJS.Kafka, topics: string[], timeoutMs: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let open = 0;
      for (const topic of topics) {
        const stable = await admin.fetchTopicOffsets(topic, { timeout: 10_000, isolationLevel: KafkaJS.IsolationLevel.READ_COMMITTED });
        const high = await admin.fetchTopicOffsets(topic, { timeout: 10_000, isolationLevel: KafkaJS.IsolationLevel.READ_UNCOMMITTED });
        for (const s of stable) if (s.high !== high.find((h) => h.partition === s.partition)?.high) open++;
      }
      if (open === 0) return;
      if (Date.now() > deadline) throw new Error(`${open} partitions still have an open transaction after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await admin.disconnect();
  }
}

async function endOffsets(kafka: KafkaJS.Kafka, topics: string[]): Promise<Map<string, { low: bigint; high: bigint }>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = new Map<string, { low: bigint; high: bigint }>();
    for (const topic of topics) {
      for (const o of await admin.fetchTopicOffsets(topic, { timeout: 10_000, isolationLevel: KafkaJS.IsolationLevel.READ_UNCOMMITTED })) ends.set(`${topic}/${o.partition}`, { low: BigInt(o.low), high: BigInt(o.high) });
    }
    return ends;
  } finally {
    await admin.disconnect();
  }
}

function headerStrings(headers: KafkaJS.IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString();
  return out;
}
