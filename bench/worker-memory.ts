// The worker's peak memory (RSS) under the two loads that used to grow it without bound:
//   1. a burst of maximum-size events, --burst times what MAX_INFLIGHT_BYTES holds, already in
//      Kafka when the worker starts;
//   2. a Redis outage of --outage-seconds while transactions keep arriving (--rate per second).
// Runs `fraud-detector run` (dist/, built first) against the local Kafka and a Redis of its own
// (redis-server on --redis-port, stopped for the outage), samples /proc/<pid>/status, and prints
// the peak RSS of each phase, whether the worker stayed in its group, and that everything was decided.
// Usage: npx tsx bench/worker-memory.ts [--burst 10] [--outage-seconds 600] [--rate 200] [--redis-port 6399]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { loadConfig } from '../src/config.js';

const { values } = parseArgs({ options: { burst: { type: 'string', default: '10' }, 'outage-seconds': { type: 'string', default: '600' }, rate: { type: 'string', default: '200' }, 'redis-port': { type: 'string', default: '6399' } } });
const defaults = loadConfig({}, {});
const EVENT_BYTES = defaults.MAX_EVENT_BYTES - 512;
const BURST = Math.ceil((Number(values.burst) * defaults.MAX_INFLIGHT_BYTES) / EVENT_BYTES);
const OUTAGE_S = Number(values['outage-seconds']);
const RATE = Number(values.rate);
const REDIS_PORT = Number(values['redis-port']);
const METRICS_PORT = 19470;
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const kafka = new KafkaJS.Kafka({ 'bootstrap.servers': brokers, log_level: 3 });
const id = `bench-mem-${randomUUID().slice(0, 8)}`;
const topics = { tx: `${id}-tx`, alerts: `${id}-alerts`, decisions: `${id}-decisions`, dlq: `${id}-dlq`, labels: `${id}-labels` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function event(i: number, bytes: number): string {
  const base = { transactionId: `${id}-${i}`, accountId: `acct-${i % 5000}`, cardId: `card-${i % 5000}`, merchantId: `m-${i % 300}`, amount: 10 + (i % 90), currency: 'EUR', timestamp: new Date().toISOString(), channel: 'ecom' };
  const pad = Math.max(0, bytes - JSON.stringify(base).length - 12);
  return JSON.stringify({ ...base, note: randomBytes(Math.ceil((pad * 3) / 4)).toString('base64').slice(0, pad) });
}

function startRedis(dir: string): ChildProcess {
  return spawn('redis-server', ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
}

async function redisUp(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('redis-cli', ['-p', String(REDIS_PORT), 'ping'], { stdio: 'ignore' });
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error('redis did not start');
}

/** Peak and current RSS of a process, in MiB, from /proc. */
function rss(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) / 1024;
  return { now: kib('VmRSS'), peak: kib('VmHWM') };
}

async function decided(): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`).then((r) => r.text(), () => '');
  let n = 0;
  for (const m of text.matchAll(/^fraud_detector_events_total\{[^}]*\} (\S+)$/gm)) n += Number(m[1]);
  return n;
}

async function main(): Promise<void> {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'fd-bench-redis-'));
  let redis = startRedis(dir);
  await redisUp();
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 6 })) });
  await admin.disconnect();
  const producer = kafka.producer({ 'linger.ms': 20, 'compression.type': 'lz4' });
  await producer.connect();

  console.log(`burst: ${BURST} events of ${EVENT_BYTES} bytes (${((BURST * EVENT_BYTES) / 2 ** 20).toFixed(0)} MiB, ${values.burst}× MAX_INFLIGHT_BYTES = ${(defaults.MAX_INFLIGHT_BYTES / 2 ** 20).toFixed(0)} MiB)`);
  for (let i = 0; i < BURST; i += 200) {
    await producer.send({ topic: topics.tx, messages: Array.from({ length: Math.min(200, BURST - i) }, (_, k) => ({ key: `acct-${(i + k) % 5000}`, value: event(i + k, EVENT_BYTES) })) });
  }
  const env = { ...process.env, KAFKA_BROKERS: brokers, REDIS_URL: `redis://127.0.0.1:${REDIS_PORT}`, KAFKA_GROUP_ID: `${id}-group`, TOPIC_TRANSACTIONS: topics.tx, TOPIC_ALERTS: topics.alerts, TOPIC_DECISIONS: topics.decisions, TOPIC_DLQ: topics.dlq, TOPIC_LABELS: topics.labels, REDIS_KEY_PREFIX: id, HTTP_PORT: String(METRICS_PORT), LOG_LEVEL: 'info' };
  const worker = spawn(process.execPath, ['dist/cli/main.js', 'run'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let revocations = 0;
  let lastLine = '';
  worker.stdout?.on('data', (d: Buffer) => {
    const text = lastLine + d.toString();
    const lines = text.split('\n');
    lastLine = lines.pop() ?? '';
    for (const line of lines) if (line.includes('"msg":"partitions revoked"') && line.includes('"consumer":"transactions"')) revocations++;
  });
  const pid = worker.pid as number;
  let phasePeak = 0;
  const sampler = setInterval(() => (phasePeak = Math.max(phasePeak, rss(pid).now)), 100);

  const t0 = Date.now();
  while ((await decided()) < BURST) await sleep(500);
  console.log(`burst decided in ${((Date.now() - t0) / 1000).toFixed(1)} s; peak RSS ${phasePeak.toFixed(0)} MiB`);

  phasePeak = 0;
  redis.kill('SIGKILL');
  console.log(`redis down for ${OUTAGE_S} s; ${RATE} events/s arriving (every 50th of maximum size)`);
  let sent = BURST;
  const until = Date.now() + OUTAGE_S * 1000;
  while (Date.now() < until) {
    const messages = Array.from({ length: RATE }, (_, k) => ({ key: `acct-${(sent + k) % 5000}`, value: event(sent + k, (sent + k) % 50 === 0 ? EVENT_BYTES : 300) }));
    await producer.send({ topic: topics.tx, messages });
    sent += RATE;
    await sleep(1000);
  }
  const outagePeak = phasePeak;
  const healthz = await fetch(`http://127.0.0.1:${METRICS_PORT}/healthz`).then((r) => r.status, () => 0);
  redis = startRedis(dir);
  await redisUp();
  const t1 = Date.now();
  while ((await decided()) < sent) await sleep(500);
  console.log(`outage: peak RSS ${outagePeak.toFixed(0)} MiB; /healthz at its end ${healthz}; ${sent - BURST} events decided ${((Date.now() - t1) / 1000).toFixed(1)} s after Redis came back`);
  clearInterval(sampler);
  const { peak } = rss(pid);
  console.log(`worker peak RSS over the whole run (VmHWM): ${peak.toFixed(0)} MiB; transactions partitions revoked: ${revocations} (0: it stayed in its group)`);
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
  redis.kill('SIGTERM');
  await producer.disconnect();
}

await main();
