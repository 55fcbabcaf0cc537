// End-to-end benchmark against the local Kafka and Redis (scripts/services.sh up):
//   1. preloads N simulated transactions into a fresh topic;
//   2. measures a pass-through consumer (consume → produce, no processing) three times; the
//      median is the ceiling (a single 5-second run moves by ±20% on this machine);
//   3. measures the detector (`fraud-detector run`, decisions topic on) draining the same backlog;
//   4. paces transactions at --latency-rate for --latency-seconds, then at 70% of the rate the
//      detector drained at, and reports p50/p99 from event time to a subscriber receiving the
//      alert (or decision), split at the decision's decidedAt and the broker's append time.
// The worker takes FEATURES_FILE and MODEL_PATH from the environment: the product's default is
// `MODEL_PATH=models/default.onnx npx tsx bench/e2e.ts`.
// Usage: npx tsx bench/e2e.ts [--events 200000] [--workers 1] [--decisions off|on]
//        [--latency-rate 2000] [--latency-seconds 20] [--latency-fraud-rate 0.05] [--skip-70]
//        [--guarantee at-least-once|exactly-once|both]
// With --decisions off (the product's default) only alerts are produced and the latency is
// measured on the alerts; with on, every decision goes to the decisions topic.
//        [--worker-node-args='--cpu-prof --cpu-prof-dir=/tmp/prof']  (profile the worker)
//        [--profile]  (profile the worker and print where its CPU went while draining, stage by
//                      stage and thread by thread, beside Redis's and the broker's: profile-table.ts)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { Redis } from 'ioredis';
import { TransactionSimulator, DEFAULT_SIMULATOR_OPTIONS } from '../src/simulate/simulator.js';
import { formatProfileTable, readProfiles } from './profile-table.js';

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
    profile: { type: 'boolean', default: false },
    'skip-70': { type: 'boolean', default: false },
    // The paced runs inject more fraud than the backlog, so a run of seconds has alerts enough for a p99.
    'latency-fraud-rate': { type: 'string', default: '0.05' },
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
  // The outputs carry the broker's append time, so the latency splits at the broker (paced()).
  const appendTimed = new Set([topics.alerts, topics.decisions]);
  await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions: PARTITIONS, ...(appendTimed.has(topic) && { configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] }) })) });

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
  console.log(`— PROCESSING_GUARANTEE=${guarantee}; features ${process.env.FEATURES_FILE ?? 'built in (features/default.yaml)'}; model ${process.env.MODEL_PATH ?? 'none (MODEL_PATH unset: rules only)'}`);
  const profileDir = values.profile ? mkdtempSync(join(tmpdir(), 'fd-bench-prof-')) : undefined;
  const workers = Array.from({ length: Number(values.workers) }, (_, i) => startWorker(i, guarantee, profileDir));
  let draining = true;
  let drainWindow: { from: number; to: number } | undefined;
  let drainCpu: CpuSeconds | undefined;
  for (const w of workers) w.once('exit', (code) => {
    if (draining) {
      console.error(`a worker exited (code ${code}) during the drain`);
      process.exit(1);
    }
  });
  try {
    const { secs: drained, cpu, window } = await waitCommitted(admin, `${id}-detector-${guarantee}`, topics.tx, N, 600_000, workers);
    drainWindow = window;
    drainCpu = cpu;
    console.log(`detector, ${workers.length} worker process(es) (validate → features → score → rules → produce → commit): ${N} events in ${drained.toFixed(2)} s = ${Math.round(N / drained)} events/s`);
    draining = false;
    console.log(`detector / pass-through: ${((ceiling / drained) * 100).toFixed(0)}%`);
    console.log(await stageBreakdown());
    const perEvent = (s: number): string => `${((s * 1e6) / N).toFixed(0)} µs`;
    console.log(`  CPU per event while draining: worker process ${perEvent(cpu.worker)} (every thread), Redis ${perEvent(cpu.redis)} (its AOF rewrites ${perEvent(cpu.redisChildren)}), broker ${perEvent(cpu.broker)}, whole machine ${perEvent(cpu.machine)}; machine ${((cpu.machine / drained / cpus().length) * 100).toFixed(0)}% busy`);
    const rates = [Number(values['latency-rate']), ...(!values['skip-70'] ? [Math.round((0.7 * N) / drained)] : [])];
    for (const [i, rate] of rates.entries()) {
      const what = i === 0 ? `${rate} events/s` : `${rate} events/s (70% of the detector's drain rate)`;
      const before = await stageTotals();
      const cpuBefore = await pacedCpu(workers);
      const threadsBefore = threadTimes(workers);
      const { latencies, benchSeconds } = await paced(rate, Number(values['latency-seconds']), guarantee, i);
      const cpuAfter = await pacedCpu(workers);
      const threadsAfter = threadTimes(workers);
      console.log(formatLatencies(what, latencies));
      console.log(formatStages(before, await stageTotals()));
      // At a few events per batch, a batch's fixed costs are most of it: CPU per event shows them.
      const events = rate * Number(values['latency-seconds']);
      const us = (s: number): string => `${((s * 1e6) / events).toFixed(0)} µs`;
      console.log(`  CPU per event at this rate: worker ${us(cpuAfter.worker - cpuBefore.worker)} (its main thread ${us(cpuAfter.main - cpuBefore.main)}), Redis ${us(cpuAfter.redis - cpuBefore.redis)}, broker ${us(cpuAfter.broker - cpuBefore.broker)}, this bench while pacing (its producer and subscriber; the events were made before) ${us(benchSeconds)}, whole machine (the events' making included) ${us(cpuAfter.machine - cpuBefore.machine)}`);
      console.log(`  the worker's threads at this rate (per event): ${threadBreakdown(threadsBefore, threadsAfter, workers, events)}`);
    }
  } finally {
    // A profiled worker writes its profiles as it exits.
    await Promise.all(workers.map((w) => new Promise((r) => { w.once('exit', r); w.kill('SIGTERM'); })));
  }
  if (profileDir !== undefined && drainWindow !== undefined && drainCpu !== undefined) {
    const c = drainCpu;
    console.log(`  where the CPU went while draining (${N} events; worker profiled, so a little slower):`);
    console.log(formatProfileTable(readProfiles(profileDir, drainWindow.from, drainWindow.to), [
      { name: 'worker process, every thread (from /proc)', seconds: c.worker },
      { name: 'Redis', seconds: c.redis },
      { name: "Redis's AOF rewrites (child processes)", seconds: c.redisChildren },
      { name: 'Kafka broker', seconds: c.broker },
      { name: 'rest of the machine', seconds: Math.max(0, c.machine - c.worker - c.redis - c.redisChildren - c.broker) },
      { name: 'whole machine', seconds: c.machine },
    ], N));
    rmSync(profileDir, { recursive: true, force: true });
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

/** The worker's per-stage sums and counts, and its batches and their messages, from its /metrics. */
async function stageTotals(): Promise<Map<string, number>> {
  const body = await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`)).text();
  const totals = new Map<string, number>();
  for (const m of body.matchAll(/^fraud_detector_stage_duration_seconds_(sum|count)\{stage="([a-z]+)"\} (\S+)$/gm)) totals.set(`${m[2]}.${m[1]}`, Number(m[3]));
  for (const m of body.matchAll(/^fraud_detector_batch_size_(sum|count) (\S+)$/gm)) totals.set(`batch.${m[1]}`, Number(m[2]));
  // The main thread's garbage collections by kind, and its event loop's longest delay since the last scrape.
  for (const m of body.matchAll(/^fraud_detector_process_nodejs_gc_duration_seconds_(sum|count)\{kind="([a-z]+)"\} (\S+)$/gm)) totals.set(`gc-${m[2]}.${m[1]}`, Number(m[3]));
  const lag = /^fraud_detector_process_nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(body)?.[1];
  if (lag !== undefined) totals.set('lag.max', Number(lag));
  return totals;
}

/** Per batch of a paced run: its mean size and the mean time of each stage (what a batch adds to an event's latency). */
function formatStages(before: Map<string, number>, after: Map<string, number>): string {
  const delta = (k: string): number => (after.get(k) ?? 0) - (before.get(k) ?? 0);
  const batches = delta('batch.count');
  const parts = ['features', 'score', 'rules', 'produce'].map((stage) => `${stage} ${((delta(`${stage}.sum`) / Math.max(1, delta(`${stage}.count`))) * 1000).toFixed(1)} ms`);
  const gc = ['minor', 'major', 'incremental'].map((kind) => `${kind} ${delta(`gc-${kind}.count`)} (${(delta(`gc-${kind}.sum`) * 1000).toFixed(0)} ms)`).join(', ');
  return [
    `  per batch (${batches} batches, ${(delta('batch.sum') / Math.max(1, batches)).toFixed(1)} events each, mean): ${parts.join(', ')}`,
    `  the worker's main thread meanwhile: garbage collections ${gc}; longest event-loop delay ${((after.get('lag.max') ?? NaN) * 1000).toFixed(1)} ms`,
  ].join('\n');
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

function startWorker(n: number, guarantee: string, profileDir?: string): ChildProcess {
  const nodeArgs = (values['worker-node-args'] ?? '').split(' ').filter(Boolean);
  if (profileDir !== undefined) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
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
  redisChildren: number;
  broker: number;
  machine: number;
}

/** The broker process listening on the bootstrap port (ss's answer), for its CPU. */
function brokerPid(): number | undefined {
  const port = brokers.split(',')[0]?.split(':').at(-1);
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const pid = /pid=(\d+)/.exec(out)?.[1];
    return pid === undefined ? undefined : Number(pid);
  } catch {
    return undefined;
  }
}
const BROKER_PID = brokerPid();

/** CPU seconds used so far by the worker processes (all threads), by Redis, and by the whole machine. */
/** CPU seconds so far of the workers (every thread, and their main threads) and of Redis. */
async function pacedCpu(workers: ChildProcess[]): Promise<{ worker: number; main: number; redis: number; broker: number; machine: number }> {
  const redis = new Redis(redisUrl);
  try {
    const all = await cpuSeconds(workers, redis);
    const main = workers.reduce((sum, w) => sum + (w.pid === undefined ? 0 : threadSeconds(`/proc/${w.pid}/task/${w.pid}/stat`)), 0);
    return { worker: all.worker, main, redis: all.redis, broker: all.broker, machine: all.machine };
  } finally {
    redis.disconnect();
  }
}

/** Every thread of the workers: its name and CPU seconds so far, by "pid/tid". */
function threadTimes(workers: ChildProcess[]): Map<string, { name: string; seconds: number }> {
  const out = new Map<string, { name: string; seconds: number }>();
  for (const w of workers) {
    if (w.pid === undefined) continue;
    for (const tid of readdirSync(`/proc/${w.pid}/task`)) {
      try {
        const name = readFileSync(`/proc/${w.pid}/task/${tid}/comm`, 'utf8').trim();
        out.set(`${w.pid}/${tid}`, { name, seconds: threadSeconds(`/proc/${w.pid}/task/${tid}/stat`) });
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return out;
}

/**
 * Where a paced run's CPU went in the workers: the main thread, librdkafka's threads (rdk:*)
 * together, and the busiest other threads one by one (the feature store's thread, libuv's pool
 * where the model runs, V8's helpers and garbage collector).
 */
function threadBreakdown(before: Map<string, { name: string; seconds: number }>, after: Map<string, { name: string; seconds: number }>, workers: ChildProcess[], events: number): string {
  const mains = new Set(workers.map((w) => `${w.pid}/${w.pid}`));
  let main = 0;
  let rdkafka = 0;
  const others: number[] = [];
  for (const [key, t] of after) {
    const used = t.seconds - (before.get(key)?.seconds ?? 0);
    if (mains.has(key)) main += used;
    else if (t.name.startsWith('rdk:')) rdkafka += used;
    else others.push(used);
  }
  others.sort((a, b) => b - a);
  const us = (sec: number): string => `${((sec * 1e6) / events).toFixed(0)} µs`;
  const rest = others.slice(4).reduce((a, b) => a + b, 0);
  return `main ${us(main)}, librdkafka ${us(rdkafka)}, busiest other threads ${others.slice(0, 4).map(us).join(', ')} (the other ${Math.max(0, others.length - 4)}: ${us(rest)})`;
}

/** User and system CPU seconds from a /proc stat file (a process's or a thread's; USER_HZ is 100 on Linux). */
function threadSeconds(statFile: string): number {
  const fields = readFileSync(statFile, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function cpuSeconds(workers: ChildProcess[], redis: Redis): Promise<CpuSeconds> {
  const tick = 100; // USER_HZ on Linux
  const processSeconds = (pid: number | undefined): number => (pid === undefined ? 0 : threadSeconds(`/proc/${pid}/stat`));
  const [, ...jiffies] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).map(Number);
  const idle = (jiffies[3] ?? 0) + (jiffies[4] ?? 0);
  const info = await redis.info('cpu');
  const redisCpu = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
  // Its children: the AOF rewrites (counted once a rewrite has finished).
  const redisChildren = Number(/used_cpu_user_children:([\d.]+)/.exec(info)?.[1]) + Number(/used_cpu_sys_children:([\d.]+)/.exec(info)?.[1]);
  return { worker: workers.reduce((s, w) => s + processSeconds(w.pid), 0), redis: redisCpu, redisChildren, broker: processSeconds(BROKER_PID), machine: (jiffies.slice(0, 8).reduce((a, b) => a + b, 0) - idle) / tick };
}

/** Microseconds on the monotonic clock V8's CPU profiles use. */
const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);

async function waitCommitted(admin: KafkaJS.Admin, groupId: string, topic: string, target: number, timeoutMs: number, workers: ChildProcess[]): Promise<{ secs: number; cpu: CpuSeconds; window: { from: number; to: number } }> {
  let started = 0;
  let from = 0;
  const redis = new Redis(redisUrl);
  let before: CpuSeconds = { worker: 0, redis: 0, redisChildren: 0, broker: 0, machine: 0 };
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] }).catch(() => []);
      const total = (entry?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      if (total > 0 && started === 0) {
        started = performance.now();
        from = monotonicMicros();
        before = await cpuSeconds(workers, redis);
      }
      if (total >= target) {
        const to = monotonicMicros();
        const after = await cpuSeconds(workers, redis);
        return { secs: (performance.now() - started) / 1000, window: { from, to }, cpu: { worker: after.worker - before.worker, redis: after.redis - before.redis, redisChildren: after.redisChildren - before.redisChildren, broker: after.broker - before.broker, machine: after.machine - before.machine } };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    redis.disconnect();
  }
  throw new Error('detector did not drain the backlog in time');
}

/** Per output read: event time → decidedAt → the broker appended it → the subscriber has it (ms). */
interface Latency {
  /** When the event was made, ms after the subscriber started (pacing begins 3 s later). */
  at: number;
  total: number;
  decided: number;
  appended: number;
  read: number;
}

function formatLatencies(what: string, latencies: Latency[]): string {
  const q = (key: keyof Latency, p: number): number => {
    const sorted = latencies.map((l) => l[key]).sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  };
  const split = (key: keyof Latency, name: string): string => `${name} p50 ${q(key, 0.5)} / p99 ${q(key, 0.99)} ms`;
  // The slowest 1% (at most 12): whether they came together (one stall) or apart, and where each waited.
  const slowest = [...latencies].sort((a, b) => b.total - a.total).slice(0, Math.min(12, Math.max(3, Math.ceil(latencies.length / 100))));
  const slow = slowest.sort((a, b) => a.at - b.at).map((l) => `${(l.at / 1000).toFixed(2)} s: ${l.total} (${l.decided}+${l.appended}+${l.read})`);
  return [
    `end-to-end latency at ${what} (event time → a read_committed subscriber has the ${values.decisions === 'on' ? 'decision' : 'alert'}), ${latencies.length} outputs: p50 ${q('total', 0.5)} ms, p99 ${q('total', 0.99)} ms, max ${q('total', 1)} ms`,
    `  split: ${split('decided', 'event → decided')}; ${split('appended', 'decided → appended by the broker')}; ${split('read', 'appended → read')}`,
    `  the slowest 1% (at most 12), in time order (ms: decided + appended + read): ${slow.join('; ')}`,
  ].join('\n');
}

/** The latencies of a paced run, and the CPU this process spent producing and reading while it paced. */
async function paced(rate: number, seconds: number, guarantee: string, round: number): Promise<{ latencies: Latency[]; benchSeconds: number }> {
  const sim = new TransactionSimulator({ ...DEFAULT_SIMULATOR_OPTIONS, seed: 12 + round, fraudRate: Number(values['latency-fraud-rate']) });
  const latencies: Latency[] = [];
  const reader = kafka.consumer({ 'group.id': `${id}-reader-${guarantee}-${round}`, 'isolation.level': 'read_committed', 'auto.offset.reset': 'latest', 'js.consumer.max.batch.size': -1, 'fetch.wait.max.ms': 10 });
  await reader.connect();
  await reader.subscribe({ topics: [values.decisions === 'on' ? topics.decisions : topics.alerts] });
  const startAt = Date.now();
  await reader.run({
    eachBatch: ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) {
        const d = JSON.parse((m.value as Buffer).toString()) as { eventTime: string; decidedAt: string };
        const t = Date.parse(d.eventTime);
        const decided = Date.parse(d.decidedAt);
        const appended = Number(m.timestamp);
        if (t >= startAt) latencies.push({ at: t - startAt, total: now - t, decided: decided - t, appended: appended - decided, read: now - appended });
      }
      return Promise.resolve();
    },
  });
  // Made and serialised before pacing, so the bench's own CPU (on the same cores as the
  // detector) is little more than the producer's: each event gets only its timestamp at send.
  const total = Math.ceil(rate * seconds);
  const heads: string[] = new Array<string>(total);
  const keys: string[] = new Array<string>(total);
  const planned = startAt + 3000;
  for (let i = 0; i < total; i++) {
    const event = sim.next(planned + (i * 1000) / rate).event;
    heads[i] = JSON.stringify({ ...event, timestamp: undefined }).slice(0, -1); // stamped at send
    keys[i] = event.accountId;
  }
  await new Promise((r) => setTimeout(r, Math.max(0, planned - Date.now()))); // let the reader join before pacing (3 s)
  const producer = kafka.producer({ 'linger.ms': 1 });
  await producer.connect();
  const own = process.cpuUsage();
  const t0 = Date.now();
  let sent = 0;
  while (Date.now() - t0 < seconds * 1000 && sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * rate)) - sent;
    if (due > 0) {
      const now = Date.now();
      const messages = [];
      for (let i = sent; i < sent + due; i++) messages.push({ key: keys[i] as string, value: `${heads[i] as string},"timestamp":${now}}` });
      await producer.send({ topic: topics.tx, messages });
      sent += due;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 3000));
  const used = process.cpuUsage(own);
  await producer.disconnect();
  await reader.disconnect();
  return { latencies, benchSeconds: (used.user + used.system) / 1e6 };
}

await main();
