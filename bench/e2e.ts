// End-to-end benchmark against the local Kafka and Redis (scripts/services.sh up):
//   1. preloads N simulated transactions into a fresh topic;
//   2. measures a pass-through consumer (consume → produce, no processing) three times; the
//      median is the ceiling (a single 5-second run moves by ±20% on this machine);
//   3. measures the detector (`fraud-detector run`, decisions topic on) draining the same backlog;
//   4. paces transactions at --latency-rate for --latency-seconds and reports p50/p99 from
//      event time to a subscriber receiving the decision.
// Usage: npx tsx bench/e2e.ts [--events 200000] [--workers 1] [--decisions off|on]
//        [--latency-rate 2000] [--latency-seconds 20] [--guarantee at-least-once|exactly-once|both]
// With --decisions off (the product's default) only alerts are produced and the latency is
// measured on the alerts; with on, every decision goes to the decisions topic.
//        [--worker-node-args='--cpu-prof --cpu-prof-dir=/tmp/prof']  (profile the worker)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { Redis } from 'ioredis';
import { TransactionSimulator, DEFAULT_SIMULATOR_OPTIONS } from '../src/simulate/simulator.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    'latency-rate': { type: 'string', default: '2000' },
    'latency-seconds': { type: 'string', default: '20' },
    partitions: { type: 'string', default: '6' },
    'worker-node-args': { type: 'string', default: '' },
    workers: { type: 'string', default: '1' },
    decisions: { type: 'string', default: 'off' },
    guarantee: { type: 'string', default: 'at-least-once' },
  },
});
const N = Number(values.events);
const METRICS_PORT = Number(process.env.BENCH_METRICS_PORT ?? 19464);
const PARTITIONS = Number(values.partitions);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const kafka = new KafkaJS.Kafka({ 'bootstrap.servers': brokers, log_level: 3 });
const id = `bench-${randomUUID().slice(0, 8)}`;
const topics = { tx: `${id}-tx`, passthrough: `${id}-pass`, alerts: `${id}-alerts`, decisions: `${id}-decisions`, dlq: `${id}-dlq`, labels: `${id}-labels` };

async function main(): Promise<void> {
  // The worker runs from dist/: build it, so the figures are for the code in src/.
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions: PARTITIONS })) });

  const produced = await preload(N);
  console.log(`preloaded ${N} events in ${produced.toFixed(2)} s (${Math.round(N / produced)} events/s)`);

  const runs: number[] = [];
  for (let r = 0; r < 3; r++) runs.push(await passThrough(r));
  const ceiling = [...runs].sort((a, b) => a - b)[1] as number;
  console.log(`pass-through (consume → produce), 3 runs: ${runs.map((t) => Math.round(N / t)).join(', ')} events/s; median ${N} events in ${ceiling.toFixed(2)} s = ${Math.round(N / ceiling)} events/s`);

  try {
    const guarantees = values.guarantee === 'both' ? ['at-least-once', 'exactly-once'] : [values.guarantee];
    for (const guarantee of guarantees) await detectorRun(admin, guarantee, ceiling);
  } finally {
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await deleteFeatureKeys();
    await admin.disconnect();
  }
}

/** The detector drains the preloaded backlog (its own group and keys), then the paced latency run. */
async function detectorRun(admin: KafkaJS.Admin, guarantee: string, ceiling: number): Promise<void> {
  console.log(`— PROCESSING_GUARANTEE=${guarantee}`);
  const workers = Array.from({ length: Number(values.workers) }, (_, i) => startWorker(i, guarantee));
  let draining = true;
  for (const w of workers) w.once('exit', (code) => {
    if (draining) {
      console.error(`a worker exited (code ${code}) during the drain`);
      process.exit(1);
    }
  });
  try {
    const { secs: drained, cpu } = await waitCommitted(admin, `${id}-detector-${guarantee}`, topics.tx, N, 600_000, workers);
    console.log(`detector, ${workers.length} worker process(es) (validate → features → score → rules → produce → commit): ${N} events in ${drained.toFixed(2)} s = ${Math.round(N / drained)} events/s`);
    draining = false;
    console.log(`detector / pass-through: ${((ceiling / drained) * 100).toFixed(0)}%`);
    console.log(await stageBreakdown());
    const perEvent = (s: number): string => `${((s * 1e6) / N).toFixed(0)} µs`;
    console.log(`  CPU per event while draining: worker process ${perEvent(cpu.worker)} (every thread), Redis ${perEvent(cpu.redis)}, whole machine ${perEvent(cpu.machine)}; machine ${((cpu.machine / drained / cpus().length) * 100).toFixed(0)}% busy`);
    const latencies = await paced(Number(values['latency-rate']), Number(values['latency-seconds']), guarantee);
    latencies.sort((a, b) => a - b);
    const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
    console.log(`end-to-end latency at ${values['latency-rate']} events/s (event time → a read_committed subscriber has the ${values.decisions === 'on' ? 'decision' : 'alert'}), ${latencies.length} events: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${latencies.at(-1)} ms`);
  } finally {
    await Promise.all(workers.map((w) => new Promise((r) => { w.once('exit', r); w.kill('SIGTERM'); })));
  }
}

/** The run's entity states would otherwise stay in Redis for their 31-day TTL. */
async function deleteFeatureKeys(): Promise<void> {
  const client = new Redis(redisUrl);
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${id}*`, 'COUNT', 10_000);
    if (keys.length > 0) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  client.disconnect();
}

/** Seconds the worker spent per stage while draining, from its own /metrics. */
async function stageBreakdown(): Promise<string> {
  const body = await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
  const parts: string[] = [];
  for (const m of body.matchAll(/^fraud_detector_stage_duration_seconds_sum\{stage="([a-z]+)"\} (\S+)$/gm)) parts.push(`${m[1]} ${Number(m[2]).toFixed(2)} s`);
  const batches = /^fraud_detector_batch_size_count (\S+)$/m.exec(body)?.[1];
  const conflicts = /^fraud_detector_feature_conflicts_total (\S+)$/m.exec(body)?.[1];
  return `  worker time by stage (summed over concurrent partitions): ${parts.join(', ')}; ${batches} batches; ${conflicts} entity states recomputed after a conflict`;
}

async function preload(n: number): Promise<number> {
  const sim = new TransactionSimulator({ ...DEFAULT_SIMULATOR_OPTIONS, seed: 11 });
  const producer = kafka.producer({ 'linger.ms': 5, 'batch.num.messages': 10_000 });
  await producer.connect();
  const t0 = performance.now();
  const base = Date.now() - n; // one event per simulated millisecond, ending now
  for (let i = 0; i < n; i += 5000) {
    const messages = [];
    for (let k = i; k < Math.min(n, i + 5000); k++) {
      const s = sim.next(base + k);
      messages.push({ key: s.event.accountId, value: JSON.stringify(s.event) });
    }
    await producer.send({ topic: topics.tx, messages });
  }
  await producer.disconnect();
  return (performance.now() - t0) / 1000;
}

async function passThrough(run: number): Promise<number> {
  const consumer = kafka.consumer({ 'group.id': `${id}-pass-${run}`, 'auto.offset.reset': 'earliest', 'enable.auto.commit': false, 'js.consumer.max.batch.size': 5000, 'js.consumer.max.cache.size.per.worker.ms': 1500, 'fetch.wait.max.ms': 50 });
  const producer = kafka.producer({ 'linger.ms': 5, 'batch.num.messages': 10_000, 'enable.idempotence': true, acks: -1, 'compression.type': 'lz4' });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [topics.tx] });
  let seen = 0;
  let started = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  await consumer.run({
    partitionsConsumedConcurrently: 2,
    eachBatch: async ({ batch }) => {
      if (started === 0) started = performance.now();
      await producer.send({ topic: topics.passthrough, messages: batch.messages.map((m) => ({ key: m.key, value: m.value })) });
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }]);
      seen += batch.messages.length;
      if (seen >= N) done();
    },
  });
  await finished;
  const secs = (performance.now() - started) / 1000;
  await consumer.disconnect();
  await producer.disconnect();
  return secs;
}

function startWorker(n: number, guarantee: string): ChildProcess {
  const nodeArgs = (values['worker-node-args'] ?? '').split(' ').filter(Boolean);
  // The single Redis at REDIS_URL, whose CPU is measured: never a Cluster that services.env names.
  const inherited = { ...process.env };
  delete inherited.REDIS_CLUSTER_NODES;
  return spawn(process.execPath, [...nodeArgs, 'dist/cli/main.js', 'run'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...inherited,
      KAFKA_BROKERS: brokers,
      REDIS_URL: redisUrl,
      KAFKA_GROUP_ID: `${id}-detector-${guarantee}`,
      PROCESSING_GUARANTEE: guarantee,
      TOPIC_TRANSACTIONS: topics.tx,
      TOPIC_ALERTS: topics.alerts,
      TOPIC_DECISIONS: topics.decisions,
      TOPIC_DLQ: topics.dlq,
      TOPIC_LABELS: topics.labels,
      EMIT_DECISIONS: String(values.decisions === 'on'),
      REDIS_KEY_PREFIX: `${id}-${guarantee}`,
      HTTP_PORT: String(METRICS_PORT + n),
      LOG_LEVEL: 'warn',
    },
  });
}

interface CpuSeconds {
  worker: number;
  redis: number;
  machine: number;
}

/** CPU seconds used so far by the worker processes (all threads), by Redis, and by the whole machine. */
async function cpuSeconds(workers: ChildProcess[], redis: Redis): Promise<CpuSeconds> {
  const tick = 100; // USER_HZ on Linux
  const processSeconds = (pid: number | undefined): number => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / tick;
  };
  const [, ...jiffies] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).map(Number);
  const idle = (jiffies[3] ?? 0) + (jiffies[4] ?? 0);
  const info = await redis.info('cpu');
  const redisCpu = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
  return { worker: workers.reduce((s, w) => s + processSeconds(w.pid), 0), redis: redisCpu, machine: (jiffies.slice(0, 8).reduce((a, b) => a + b, 0) - idle) / tick };
}

async function waitCommitted(admin: KafkaJS.Admin, groupId: string, topic: string, target: number, timeoutMs: number, workers: ChildProcess[]): Promise<{ secs: number; cpu: CpuSeconds }> {
  let started = 0;
  const redis = new Redis(redisUrl);
  let before: CpuSeconds = { worker: 0, redis: 0, machine: 0 };
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] }).catch(() => []);
      const total = (entry?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      if (total > 0 && started === 0) {
        started = performance.now();
        before = await cpuSeconds(workers, redis);
      }
      if (total >= target) {
        const after = await cpuSeconds(workers, redis);
        return { secs: (performance.now() - started) / 1000, cpu: { worker: after.worker - before.worker, redis: after.redis - before.redis, machine: after.machine - before.machine } };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    redis.disconnect();
  }
  throw new Error('detector did not drain the backlog in time');
}

async function paced(rate: number, seconds: number, guarantee: string): Promise<number[]> {
  const sim = new TransactionSimulator({ ...DEFAULT_SIMULATOR_OPTIONS, seed: 12 });
  const latencies: number[] = [];
  const reader = kafka.consumer({ 'group.id': `${id}-reader-${guarantee}`, 'isolation.level': 'read_committed', 'auto.offset.reset': 'latest', 'js.consumer.max.batch.size': -1, 'fetch.wait.max.ms': 10 });
  await reader.connect();
  await reader.subscribe({ topics: [values.decisions === 'on' ? topics.decisions : topics.alerts] });
  const startAt = Date.now();
  await reader.run({
    eachBatch: ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) {
        const d = JSON.parse((m.value as Buffer).toString()) as { eventTime: string };
        const t = Date.parse(d.eventTime);
        if (t >= startAt) latencies.push(now - t);
      }
      return Promise.resolve();
    },
  });
  await new Promise((r) => setTimeout(r, 3000)); // let the reader join before pacing
  const producer = kafka.producer({ 'linger.ms': 1 });
  await producer.connect();
  const t0 = Date.now();
  let sent = 0;
  while (Date.now() - t0 < seconds * 1000) {
    const due = Math.floor(((Date.now() - t0) / 1000) * rate) - sent;
    if (due > 0) {
      const messages = [];
      for (let i = 0; i < due; i++) {
        const s = sim.next(Date.now());
        messages.push({ key: s.event.accountId, value: JSON.stringify({ ...s.event, timestamp: Date.now() }) });
      }
      await producer.send({ topic: topics.tx, messages });
      sent += due;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 3000));
  await producer.disconnect();
  await reader.disconnect();
  return latencies;
}

await main();
