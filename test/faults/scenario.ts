// One scenario of the fault suite, start to verdict: its own topics (RF 3, min ISR 2, made by
// `topics create`), group and key prefix; three workers and the steady producer; the faults;
// a wait for the group to catch up; every worker drained with SIGTERM; a clean single-worker
// run over the same input (a fresh group and key prefix, its own output topics); then the
// outputs and the Redis states verified.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { CONFIG_KEYS, loadConfig } from '../../src/config.js';
import { DEFAULT_FEATURE_SET } from '../../src/features/definitions.js';
import { Random } from '../../src/simulate/random.js';
import { topicConfigs } from '../helpers/kafka-tools.js';
import { ROOT, type FaultCluster, type FaultServices } from './cluster.js';
import { bounceControllers, bounceLeaders, brokerOutage, killWorkers, rebalanceStorm, restartRedis, type FaultContext } from './faults.js';
import { DEFAULT_INPUT, type InputOptions } from './input.js';
import type { ProducerJob, ProducerSummary } from './producer.js';
import type { Profile } from './profiles.js';
import { readToEnd, type TopicRecord } from './read-topics.js';
import { deletePrefix, readPrefix } from './redis-state.js';
import { compareStates, type StateDiff } from './state-compare.js';
import { verifyOutputs, type OutputVerdict } from './verify.js';
import { sleep, WorkerFleet, type DrainExit, type ReadyProbe } from './workers.js';

type Faults = (ctx: FaultContext, p: Profile) => Promise<unknown>;

export const SCENARIOS: Record<string, Faults> = {
  'worker-kill': (ctx, p) => killWorkers(ctx, p.kills.count, p.kills.everyS),
  'rebalance-storm': (ctx, p) => rebalanceStorm(ctx, p.storm.durationS, p.storm.everyS, p.storm.maxWorkers),
  'leader-bounce': (ctx, p) => bounceLeaders(ctx, p.leaderBounces, p.bounceDownS),
  'controller-bounce': (ctx, p) => bounceControllers(ctx, p.controllerBounces, p.bounceDownS),
  'broker-outage': (ctx, p) => brokerOutage(ctx, p.outageS),
  'redis-restart': (ctx, p) => restartRedis(ctx, p.redisRestarts),
  // Two lanes at once: the workers' faults, and the brokers' and Redis's.
  all: (ctx, p) => Promise.all([workerLane(ctx, p), infrastructureLane(ctx, p)]),
};

async function workerLane(ctx: FaultContext, p: Profile): Promise<void> {
  await killWorkers(ctx, p.all.kills, p.kills.everyS);
  await rebalanceStorm(ctx, p.all.stormS, p.storm.everyS, p.storm.maxWorkers);
}

/** Leader and controller bounces in turn, the outage halfway through them, then the Redis restarts. */
async function infrastructureLane(ctx: FaultContext, p: Profile): Promise<void> {
  const steps: (() => Promise<void>)[] = [];
  for (let i = 0; i < Math.max(p.all.leaderBounces, p.all.controllerBounces); i++) {
    if (i < p.all.leaderBounces) steps.push(() => bounceLeaders(ctx, 1, p.bounceDownS));
    if (i < p.all.controllerBounces) steps.push(() => bounceControllers(ctx, 1, p.bounceDownS));
  }
  steps.splice(Math.floor(steps.length / 2), 0, () => brokerOutage(ctx, p.all.outageS));
  steps.push(() => restartRedis(ctx, p.all.redisRestarts));
  for (const step of steps) await step();
}

export interface SuiteContext {
  services: FaultServices;
  cluster: FaultCluster;
  profile: Profile;
  runId: string;
  runDir: string;
  seed: number;
  keep: boolean;
  say: (line: string) => void;
}

export interface ScenarioResult {
  scenario: string;
  seconds: number;
  verdict: OutputVerdict;
  /** Uncommitted records of the transactions topic after the drain (must be 0). */
  lag: number;
  labelsLag: number;
  drains: DrainExit[];
  /** Drains that did not exit 0 (must be 0). */
  drainFailures: number;
  redis: StateDiff;
  /** Workers that answered 200 on every /readyz probe while 2 brokers were down (must be 0); null without an outage. */
  stayedReadyInOutage: number | null;
  outageWorkers: number;
  producer: ProducerSummary;
  caughtUp: boolean;
  cleanRun: { exit: number | null; caughtUp: boolean };
  timeline: string[];
  /** Warnings and errors the workers logged, by message, most frequent first. */
  workerLogs: { line: string; count: number }[];
  logDir: string;
}

interface Names {
  base: string;
  tx: string;
  labels: string;
  outputs: { alerts: string; decisions: string; dlq: string };
  clean: { alerts: string; decisions: string; dlq: string };
}

function namesFor(runId: string, scenario: string): Names {
  const base = `fdf-${runId}-${scenario}`;
  const out = (s: string): { alerts: string; decisions: string; dlq: string } => ({ alerts: `${base}${s}-alerts`, decisions: `${base}${s}-decisions`, dlq: `${base}${s}-dlq` });
  return { base, tx: `${base}-tx`, labels: `${base}-labels`, outputs: out(''), clean: out('-clean') };
}

/** The environment of a detector process: ours only (a caller's KAFKA_BROKERS, REDIS_CLUSTER_NODES, … never leak in). */
function detectorEnv(services: FaultServices, settings: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !CONFIG_KEYS.includes(k) && k !== 'CONFIG_FILE') env[k] = v;
  return { ...env, KAFKA_BROKERS: services.brokers, REDIS_URL: services.redisUrl, ...settings };
}

function workerSettings(names: Names, outputs: Names['outputs'], group: string, prefix: string): Record<string, string> {
  return {
    KAFKA_CLIENT_ID: 'fd-faults',
    KAFKA_GROUP_ID: group,
    TOPIC_TRANSACTIONS: names.tx,
    TOPIC_LABELS: names.labels,
    TOPIC_ALERTS: outputs.alerts,
    TOPIC_DECISIONS: outputs.decisions,
    TOPIC_DLQ: outputs.dlq,
    TRANSACTIONS_PARTITIONS: '6',
    EMIT_DECISIONS: 'true',
    REDIS_KEY_PREFIX: prefix,
    MODEL_PATH: 'models/default.onnx',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  };
}

/** `fraud-detector topics create` at RF 3 and min ISR 2, as an operator runs it. */
async function createTopics(env: Record<string, string>, log: string): Promise<void> {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'topics', 'create', '--replication-factor', '3', '--min-insync-replicas', '2'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  writeFileSync(log, out, { flag: 'a' });
  if (code !== 0) throw new Error(`topics create exited ${code}: ${out}`);
}

/** The topics must really be RF 3 and min ISR 2, or the scenario proves nothing about them. */
async function checkReplication(suite: SuiteContext, names: Names): Promise<void> {
  const topics = [names.tx, names.labels, ...Object.values(names.outputs)];
  let meta = await suite.cluster.metadata(topics).catch(() => null);
  // A topic just created may be unknown to the broker answering for a moment.
  for (let i = 0; meta === null && i < 40; i++) {
    await sleep(250);
    meta = await suite.cluster.metadata(topics).catch(() => null);
  }
  if (meta === null) meta = await suite.cluster.metadata(topics);
  const wrong = meta.flatMap((t) => t.partitions.filter((p) => p.replicas.length !== 3).map((p) => `${t.name}/${p.partitionId}: ${p.replicas.length} replicas`));
  if (wrong.length > 0) throw new Error(`topics not at replication factor 3: ${wrong.join(', ')}`);
  const configs = await topicConfigs(suite.services.brokers.split(',')[0] as string, names.tx);
  if (configs['min.insync.replicas'] !== '2') throw new Error(`${names.tx}: min.insync.replicas is ${configs['min.insync.replicas'] ?? "the broker's default"}, not 2`);
}

function startProducer(suite: SuiteContext, names: Names, input: InputOptions, log: string): { stop: () => Promise<ProducerSummary> } {
  const job: ProducerJob = { brokers: suite.services.brokers, transactionsTopic: names.tx, labelsTopic: names.labels, input, messageTimeoutMs: 600_000 };
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'faults', 'producer.ts'), JSON.stringify(job)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => writeFileSync(log, d, { flag: 'a' }));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    stop: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) throw new Error(`the producer exited ${code}; see ${log}`);
      return JSON.parse(last) as ProducerSummary;
    },
  };
}

export async function runScenario(suite: SuiteContext, scenario: string): Promise<ScenarioResult> {
  const faults = SCENARIOS[scenario];
  if (faults === undefined) throw new Error(`no scenario ${scenario}; scenarios: ${Object.keys(SCENARIOS).join(', ')}`);
  const t0 = Date.now();
  const names = namesFor(suite.runId, scenario);
  const logDir = join(suite.runDir, scenario);
  mkdirSync(logDir, { recursive: true });
  const timeline: string[] = [];
  const log = (text: string): void => {
    const line = `+${((Date.now() - t0) / 1000).toFixed(1)}s ${text}`;
    timeline.push(line);
    suite.say(`  ${scenario} ${line}`);
  };
  const group = names.base;
  const env = detectorEnv(suite.services, workerSettings(names, names.outputs, group, names.base));
  await createTopics(env, join(logDir, 'topics.log'));
  // Checked while the workers start; caught here so a failure waits for its await.
  const replication = checkReplication(suite, names).then(() => null, (err: Error) => err);
  const fleet = new WorkerFleet(env, logDir);
  const ctx: FaultContext = { fleet, cluster: suite.cluster, rng: new Random(suite.seed), transactionsTopic: names.tx, topics: [names.tx, names.labels, ...Object.values(names.outputs), '__consumer_offsets'], workers: suite.profile.workers, log, outages: [] };
  try {
    const started = await Promise.all(Array.from({ length: suite.profile.workers }, () => fleet.start()));
    await Promise.all(started.map((w) => fleet.waitReady(w)));
    const replicationError = await replication;
    if (replicationError !== null) throw replicationError;
    log(`${started.length} workers ready; topics at RF 3, min.insync.replicas 2`);
    fleet.startProbing();
    const producer = startProducer(suite, names, { ...DEFAULT_INPUT, seed: suite.seed, rate: suite.profile.rate }, join(logDir, 'producer.log'));
    await sleep(suite.profile.warmupS * 1000);
    await faults(ctx, suite.profile);
    await sleep(suite.profile.cooldownS * 1000);
    const summary = await producer.stop();
    log(`producer stopped: ${summary.sent} transactions (${summary.malformed} malformed), ${summary.labels} labels, ${summary.failed} failed`);
    const caughtUp = await suite.cluster.waitCaughtUp(group, [names.tx, names.labels], 240_000, 30_000);
    log(caughtUp ? 'group caught up' : 'group did not catch up (lag stalled); draining anyway');
    const drains = await fleet.drainAll();
    fleet.stopProbing();
    log(`drained: ${drains.length} SIGTERM exits, codes ${[...new Set(drains.map((d) => d.code))].join(', ')}`);
    const [lag, labelsLag] = await Promise.all([suite.cluster.lag(group, names.tx), suite.cluster.lag(group, names.labels)]);
    const [cleanRun, topics] = await Promise.all([cleanRunOf(suite, names, logDir, log), readToEnd(suite.services.brokers, [names.tx, names.outputs.decisions, names.outputs.alerts, names.outputs.dlq])]);
    const verdict = verifyOutputs({ inputTopic: names.tx, inputs: get(topics, names.tx), decisions: get(topics, names.outputs.decisions), alerts: get(topics, names.outputs.alerts), deadLetters: get(topics, names.outputs.dlq) });
    const [faultStates, cleanStates] = await Promise.all([readPrefix(suite.services.redisUrl, names.base), readPrefix(suite.services.redisUrl, `${names.base}-clean`)]);
    // The workers run the built-in feature set (no FEATURES_FILE) at the configured lateness.
    const redis = compareStates(faultStates, cleanStates, DEFAULT_FEATURE_SET, loadConfig(env).ALLOWED_LATENESS_MS);
    const readiness = outageReadiness(ctx.outages, fleet.probes, log);
    const result: ScenarioResult = {
      scenario,
      seconds: (Date.now() - t0) / 1000,
      verdict,
      lag,
      labelsLag,
      drains,
      drainFailures: drains.filter((d) => d.code !== 0).length,
      redis,
      ...readiness,
      producer: summary,
      caughtUp,
      cleanRun,
      timeline,
      workerLogs: summariseLogs(fleet.all().map((w) => w.log)),
      logDir,
    };
    writeFileSync(join(logDir, 'result.json'), JSON.stringify(result, null, 2));
    if (!suite.keep) await cleanUp(suite, names);
    return result;
  } finally {
    await fleet.killAll();
  }
}

function get(topics: Map<string, TopicRecord[]>, topic: string): TopicRecord[] {
  return topics.get(topic) ?? [];
}

/** One worker, a fresh group and key prefix, over the same input from the start, into its own output topics; drained. */
async function cleanRunOf(suite: SuiteContext, names: Names, logDir: string, log: (text: string) => void): Promise<{ exit: number | null; caughtUp: boolean }> {
  const group = `${names.base}-clean`;
  const env = detectorEnv(suite.services, workerSettings(names, names.clean, group, `${names.base}-clean`));
  await createTopics(env, join(logDir, 'topics.log'));
  const fleet = new WorkerFleet(env, logDir, 'clean-worker');
  try {
    const worker = await fleet.start();
    await fleet.waitReady(worker);
    const caughtUp = await suite.cluster.waitCaughtUp(group, [names.tx, names.labels], 240_000, 30_000);
    const [exit] = await fleet.drainAll();
    log(`clean run: ${caughtUp ? 'caught up' : 'did NOT catch up'}, drain exit ${exit?.code}`);
    return { exit: exit?.code ?? null, caughtUp };
  } finally {
    await fleet.killAll();
  }
}

/** Per outage, the workers that were probed in it and never answered 503. */
function outageReadiness(outages: { startMs: number; endMs: number }[], probes: readonly ReadyProbe[], log: (text: string) => void): { stayedReadyInOutage: number | null; outageWorkers: number } {
  if (outages.length === 0) return { stayedReadyInOutage: null, outageWorkers: 0 };
  let stayed = 0;
  let probed = 0;
  for (const { startMs, endMs } of outages) {
    const byWorker = new Map<string, ReadyProbe[]>();
    for (const p of probes) if (p.atMs >= startMs && p.atMs < endMs && p.status !== null) byWorker.set(p.worker, [...(byWorker.get(p.worker) ?? []), p]);
    for (const [worker, ps] of byWorker) {
      probed++;
      const first = ps.find((p) => p.status !== 200);
      if (first === undefined) stayed++;
      log(`outage: ${worker} ${first === undefined ? `answered 200 on all ${ps.length} /readyz probes` : `not ready ${((first.atMs - startMs) / 1000).toFixed(1)} s into the outage`}`);
    }
  }
  return { stayedReadyInOutage: stayed, outageWorkers: probed };
}

/** Warnings and errors in the workers' JSON logs, by message (and error, shortened). */
function summariseLogs(files: string[]): { line: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const file of files) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const raw of text.split('\n')) {
      if (raw.trim() === '') continue;
      let line: string;
      try {
        const entry = JSON.parse(raw) as { level?: number; msg?: string; err?: unknown; dependency?: string };
        if ((entry.level ?? 0) < 40) continue;
        const err = typeof entry.err === 'string' ? entry.err : entry.err === undefined ? '' : JSON.stringify(entry.err);
        line = `${entry.level === 40 ? 'warn' : 'error'} ${entry.msg ?? ''}${entry.dependency ? ` [${entry.dependency}]` : ''}${err ? `: ${err.replace(/\d+/g, 'N').slice(0, 140)}` : ''}`;
      } catch {
        line = `(not JSON) ${raw.replace(/\d+/g, 'N').slice(0, 140)}`;
      }
      counts.set(line, (counts.get(line) ?? 0) + 1);
    }
  }
  return [...counts].map(([line, count]) => ({ line, count })).sort((a, b) => b.count - a.count).slice(0, 12);
}

async function cleanUp(suite: SuiteContext, names: Names): Promise<void> {
  await Promise.all([deletePrefix(suite.services.redisUrl, names.base), deletePrefix(suite.services.redisUrl, `${names.base}-clean`)]);
  const admin = new KafkaJS.Kafka({ 'bootstrap.servers': suite.services.brokers, log_level: 0 }).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [names.tx, names.labels, ...Object.values(names.outputs), ...Object.values(names.clean)] });
  } finally {
    await admin.disconnect();
  }
}
