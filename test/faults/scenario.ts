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
import { track, within } from './bounds.js';
import { ROOT, type FaultCluster, type FaultServices } from './cluster.js';
import { bounceControllers, bounceLeaders, brokerOutage, killWorkers, rebalanceStorm, restartRedis, type FaultContext } from './faults.js';
import { DEFAULT_INPUT, type InputOptions } from './input.js';
import type { ProducerJob, ProducerSummary } from './producer.js';
import type { Profile } from './profiles.js';
import type { ScenarioError, ScenarioOutcome } from './report.js';
import { readToEnd, type TopicRecord } from './read-topics.js';
import { deletePrefix, readPrefix } from './redis-state.js';
import { compareStates, type StateDiff } from './state-compare.js';
import { verifyOutputs, type OutputVerdict } from './verify.js';
import { DRAIN_BOUND_MS, sleep, WorkerFleet, type DrainExit, type ReadyProbe } from './workers.js';

type Faults = (ctx: FaultContext, p: Profile) => Promise<unknown>;

/** Scenarios whose faults touch only their own workers: they may run side by side. */
export const ISOLATED = new Set(['worker-kill', 'rebalance-storm']);

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
  if (p.all.outageS > 0) steps.splice(Math.floor(steps.length / 2), 0, () => brokerOutage(ctx, p.all.outageS));
  steps.push(() => restartRedis(ctx, p.all.redisRestarts));
  for (const step of steps) await step();
}

export type Guarantee = 'at-least-once' | 'exactly-once';

export interface SuiteContext {
  services: FaultServices;
  cluster: FaultCluster;
  profile: Profile;
  runId: string;
  runDir: string;
  seed: number;
  keep: boolean;
  guarantee: Guarantee;
  say: (line: string) => void;
  /** The min.insync.replicas of the first scenario's transactions topic, read from the broker. */
  minInsyncReplicas?: Promise<{ topic: string; value: string | undefined }>;
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
  /** The workers' PROCESSING_GUARANTEE: with exactly-once, read_committed must see each input once (redelivered must be 0). */
  guarantee: Guarantee;
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
    // Retries back off up to 3 s instead of 10: the same retries, sooner, so a stuck lag is
    // told from a retry's pause in seconds (see waitCaughtUp below).
    RETRY_MAX_BACKOFF_MS: '3000',
  };
}

/** `fraud-detector topics create` at RF 3 and min ISR 2, as an operator runs it. */
async function createTopics(env: Record<string, string>, log: string): Promise<void> {
  const child = track(spawn(process.execPath, ['dist/cli/main.js', 'topics', 'create', '--replication-factor', '3', '--min-insync-replicas', '2'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 }));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
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
  // Every scenario's topics come from the same command: one reading of one topic's configs
  // (a JVM, 2-3 s of CPU) proves the flag lands.
  suite.minInsyncReplicas ??= topicConfigs(suite.services.brokers.split(',')[0] as string, names.tx).then((c) => ({ topic: names.tx, value: c['min.insync.replicas'] }));
  const { topic, value } = await suite.minInsyncReplicas;
  if (value !== '2') throw new Error(`${topic}: min.insync.replicas is ${value ?? "the broker's default"}, not 2`);
}

function startProducer(suite: SuiteContext, names: Names, input: InputOptions, log: string): { stop: () => Promise<ProducerSummary> } {
  const job: ProducerJob = { brokers: suite.services.brokers, transactionsTopic: names.tx, labelsTopic: names.labels, input, messageTimeoutMs: 600_000 };
  const child = track(spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'faults', 'producer.ts'), JSON.stringify(job)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => writeFileSync(log, d, { flag: 'a' }));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    // The faults are over when it is stopped: what it still holds is acknowledged in seconds.
    stop: async () => {
      child.kill('SIGTERM');
      const code = await within(exited, 120_000, 'the producer, flushing after SIGTERM').catch((err: Error) => {
        child.kill('SIGKILL');
        throw err;
      });
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) throw new Error(`the producer exited ${code}; see ${log}`);
      return JSON.parse(last) as ProducerSummary;
    },
  };
}

/** A scenario with its topics made and its workers ready, waiting for its faults. */
export interface PreparedScenario {
  scenario: string;
  t0: number;
  names: Names;
  env: Record<string, string>;
  logDir: string;
  fleet: WorkerFleet;
  ctx: FaultContext;
  timeline: string[];
}

/** After the faults and the drain: what the cluster and the workers said, before the outputs are read. */
export interface ExercisedScenario extends PreparedScenario {
  producer: ProducerSummary;
  cleanRun: Promise<{ exit: number | null; caughtUp: boolean }>;
  caughtUp: boolean;
  drains: DrainExit[];
  lag: number;
  labelsLag: number;
}

/** Topics (RF 3, min ISR 2, checked), and the workers started and ready. */
export async function prepareScenario(suite: SuiteContext, scenario: string): Promise<PreparedScenario> {
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
  const env = detectorEnv(suite.services, { ...workerSettings(names, names.outputs, names.base, names.base), PROCESSING_GUARANTEE: suite.guarantee });
  await createTopics(env, join(logDir, 'topics.log'));
  // Checked while the workers start; caught here so a failure waits for its await.
  const replication = checkReplication(suite, names).then(() => null, (err: Error) => err);
  const fleet = new WorkerFleet(env, logDir);
  const ctx: FaultContext = { fleet, cluster: suite.cluster, rng: new Random(suite.seed), transactionsTopic: names.tx, topics: [names.tx, names.labels, ...Object.values(names.outputs), '__consumer_offsets'], workers: suite.profile.workers, log, outages: [], lastUncleanExitMs: 0 };
  const prepared = { scenario, t0, names, env, logDir, fleet, ctx, timeline };
  try {
    const started = await Promise.all(Array.from({ length: suite.profile.workers }, () => fleet.start()));
    await Promise.all(started.map((w) => fleet.waitReady(w)));
    const replicationError = await replication;
    if (replicationError !== null) throw replicationError;
    log(`${started.length} workers ready; topics at RF 3, min.insync.replicas 2`);
    return prepared;
  } catch (err) {
    await fleet.killAll();
    throw err;
  }
}

/** The steady input, the faults, a wait for the group to catch up, then every worker drained. */
async function exerciseScenario(suite: SuiteContext, p: PreparedScenario): Promise<ExercisedScenario> {
  const faults = SCENARIOS[p.scenario] as Faults;
  const { fleet, ctx, names } = p;
  fleet.startProbing();
  const producer = startProducer(suite, names, { ...DEFAULT_INPUT, seed: suite.seed, rate: suite.profile.rate }, join(p.logDir, 'producer.log'));
  await sleep(suite.profile.warmupS * 1000);
  await faults(ctx, suite.profile);
  ctx.log('faults over');
  await sleep(suite.profile.cooldownS * 1000);
  const summary = await producer.stop();
  ctx.log(`producer stopped: ${summary.sent} transactions (${summary.malformed} malformed), ${summary.labels} labels, ${summary.failed} failed`);
  // The input is complete and the faults are over: the clean run starts now, beside the
  // catch-up and the drain (conclude waits for it before the next scenario's faults).
  const cleanRun = cleanRunOf(suite, names, p.logDir, ctx.log).catch((err: Error) => {
    ctx.log(`clean run failed: ${err.message}`);
    return { exit: null, caughtUp: false };
  });
  const settled = await waitSettled(suite, names, ctx.lastUncleanExitMs + 18_000);
  const caughtUp = settled === 'caught up';
  // The final drain is of running workers: one that joined in the last seconds starts first.
  await fleet.waitAllReady(60_000);
  ctx.log(`group ${settled}; draining`);
  const drains = await fleet.drainAll();
  fleet.stopProbing();
  ctx.log(`drained: ${drains.length} SIGTERM exits: ${describeExits(drains)}`);
  const [lag, labelsLag] = await Promise.all([suite.cluster.lag(names.base, names.tx), suite.cluster.lag(labelsGroup(names.base), names.labels)]);
  return { ...p, producer: summary, cleanRun, caughtUp, drains, lag, labelsLag };
}

/** The clean run, then the outputs and the Redis states verified; the scenario's topics and keys deleted. */
async function concludeScenario(suite: SuiteContext, e: ExercisedScenario): Promise<ScenarioResult> {
  const { names, ctx } = e;
  ctx.log('verifying: the clean run, the output topics, the Redis states');
  const [cleanRun, topics] = await Promise.all([e.cleanRun, within(readToEnd(suite.services.brokers, [names.tx, names.outputs.decisions, names.outputs.alerts, names.outputs.dlq], 120_000, suite.guarantee === 'exactly-once'), 180_000, 'reading the output topics')]);
  const verdict = verifyOutputs({ inputTopic: names.tx, inputs: get(topics, names.tx), decisions: get(topics, names.outputs.decisions), alerts: get(topics, names.outputs.alerts), deadLetters: get(topics, names.outputs.dlq) });
  const [faultStates, cleanStates] = await within(Promise.all([readPrefix(suite.services.redisUrl, names.base), readPrefix(suite.services.redisUrl, `${names.base}-clean`)]), 120_000, 'reading the Redis states');
  // The workers run the built-in feature set (no FEATURES_FILE) at the configured lateness.
  const redis = compareStates(faultStates, cleanStates, DEFAULT_FEATURE_SET, loadConfig(e.env).ALLOWED_LATENESS_MS);
  const result: ScenarioResult = {
    scenario: e.scenario,
    seconds: (Date.now() - e.t0) / 1000,
    verdict,
    lag: e.lag,
    labelsLag: e.labelsLag,
    drains: e.drains,
    drainFailures: e.drains.filter((d) => d.code !== 0).length,
    redis,
    ...outageReadiness(ctx.outages, e.fleet.probes, ctx.log),
    producer: e.producer,
    caughtUp: e.caughtUp,
    cleanRun,
    guarantee: suite.guarantee,
    timeline: e.timeline,
    workerLogs: summariseLogs(e.fleet.all().map((w) => w.log)),
    logDir: e.logDir,
  };
  writeFileSync(join(e.logDir, 'result.json'), JSON.stringify(result, null, 2));
  if (!suite.keep) await within(cleanUp(suite, names), 60_000, 'deleting the topics and keys');
  return result;
}

/** The faults and the drain; the workers are gone afterwards, whatever happened. */
export async function exercise(suite: SuiteContext, p: PreparedScenario): Promise<ExercisedScenario | ScenarioError> {
  try {
    return await exerciseScenario(suite, p);
  } catch (err) {
    return scenarioError(p.scenario, p.t0, err);
  } finally {
    await p.fleet.killAll();
  }
}

function describeExits(drains: DrainExit[]): string {
  const counts = new Map<string, number>();
  for (const d of drains) {
    const how = d.hung ? `hung: SIGKILLed ${DRAIN_BOUND_MS / 1000} s after its SIGTERM` : d.code !== null ? `exit ${d.code}` : `killed by ${d.signal}${d.wasReady ? '' : ' (told to go before it was ready)'}`;
    counts.set(how, (counts.get(how) ?? 0) + 1);
  }
  return [...counts].map(([how, n]) => `${n} × ${how}`).join(', ');
}

type Settled = 'caught up' | 'decided every input, but its lag stays' | 'made no progress for 45 s';

/**
 * Waits until the group has nothing left to do before it is drained: its lag is 0; or every
 * input has a decision or a dead letter, every label is committed and the lag has not moved for
 * 10 s (what remains are offsets it will never commit, such as refused commits); or neither the lag nor the outputs
 * moved for 45 s (a worker's produce waits up to message.timeout.ms, 30 s, before it retries).
 * Nothing before `notBeforeMs`: a SIGKILLed member holds its partitions until its session
 * times out (15 s).
 */
async function waitSettled(suite: SuiteContext, names: Names, notBeforeMs: number): Promise<Settled> {
  const deadline = Date.now() + 300_000;
  let last = '';
  let lastChange = Date.now();
  while (Date.now() < deadline) {
    const progress = await Promise.all([suite.cluster.lag(names.base, names.tx), suite.cluster.lag(labelsGroup(names.base), names.labels), ...[names.outputs.decisions, names.outputs.dlq].map(async (t) => [...(await suite.cluster.endOffsets(t)).values()].reduce((a, b) => a + b, 0n))]).catch(() => null);
    if (progress !== null && progress[0] === 0 && progress[1] === 0) return 'caught up';
    const now = Date.now();
    if (progress !== null && progress.join() !== last) {
      last = progress.join();
      lastChange = now;
    } else if (now >= notBeforeMs && now - lastChange >= 45_000) {
      return 'made no progress for 45 s';
    } else if (now >= notBeforeMs && now - lastChange >= 10_000 && progress?.[1] === 0 && (await everyInputDecided(suite, names))) {
      return 'decided every input, but its lag stays';
    }
    await sleep(1000);
  }
  return 'made no progress for 45 s';
}

async function everyInputDecided(suite: SuiteContext, names: Names): Promise<boolean> {
  const topics = await within(readToEnd(suite.services.brokers, [names.tx, names.outputs.decisions, names.outputs.alerts, names.outputs.dlq]), 180_000, 'reading the output topics').catch(() => null);
  if (topics === null) return false;
  return verifyOutputs({ inputTopic: names.tx, inputs: get(topics, names.tx), decisions: get(topics, names.outputs.decisions), alerts: get(topics, names.outputs.alerts), deadLetters: get(topics, names.outputs.dlq) }).lost === 0;
}

/** The clean run and the verdict; no fault may run meanwhile (the clean run is the reference). */
export async function conclude(suite: SuiteContext, e: ExercisedScenario): Promise<ScenarioOutcome> {
  try {
    return await concludeScenario(suite, e);
  } catch (err) {
    return scenarioError(e.scenario, e.t0, err);
  }
}

export function scenarioError(scenario: string, t0: number, err: unknown): ScenarioError {
  return { scenario, seconds: (Date.now() - t0) / 1000, error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
}

function get(topics: Map<string, TopicRecord[]>, topic: string): TopicRecord[] {
  return topics.get(topic) ?? [];
}

/** The group a worker of `group` reads labels in (the worker's default: KAFKA_LABELS_GROUP_ID unset). */
function labelsGroup(group: string): string {
  return `${group}-labels`;
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
    const caughtUp = await suite.cluster.waitCaughtUp([{ group, topic: names.tx }, { group: labelsGroup(group), topic: names.labels }], { timeoutMs: 240_000, stallMs: 30_000 });
    const [exit] = await fleet.drainAll();
    log(`clean run: ${caughtUp ? 'caught up' : 'did NOT catch up'}, drain exit ${exit?.code}`);
    return { exit: exit?.code ?? null, caughtUp };
  } finally {
    await fleet.killAll();
  }
}

/**
 * Per outage, the workers that were ready when it began (a worker still starting is not ready
 * yet, which says nothing) and answered 200 on every probe during it.
 */
function outageReadiness(outages: { startMs: number; endMs: number }[], probes: readonly ReadyProbe[], log: (text: string) => void): { stayedReadyInOutage: number | null; outageWorkers: number } {
  if (outages.length === 0) return { stayedReadyInOutage: null, outageWorkers: 0 };
  let stayed = 0;
  let probed = 0;
  for (const { startMs, endMs } of outages) {
    const readyBefore = new Set(probes.filter((p) => p.atMs < startMs && p.status === 200).map((p) => p.worker));
    const byWorker = new Map<string, ReadyProbe[]>();
    for (const p of probes) if (p.atMs >= startMs && p.atMs < endMs && p.status !== null && readyBefore.has(p.worker)) byWorker.set(p.worker, [...(byWorker.get(p.worker) ?? []), p]);
    for (const [worker, ps] of byWorker) {
      probed++;
      const first = ps.find((p) => p.status !== 200);
      if (first === undefined) stayed++;
      log(`outage: ${worker} ${first === undefined ? `answered 200 on all ${ps.length} /readyz probes` : `not ready ${((first.atMs - startMs) / 1000).toFixed(1)} s into the outage`}`);
    }
  }
  return { stayedReadyInOutage: stayed, outageWorkers: probed };
}

/**
 * Warnings and errors the workers wrote, by message, digits folded: their JSON log lines at
 * warn and above, and what the Kafka client printed itself (inspected objects on stderr).
 */
function summariseLogs(files: string[]): { line: string; count: number }[] {
  const counts = new Map<string, number>();
  const add = (line: string): void => void counts.set(line, (counts.get(line) ?? 0) + 1);
  for (const file of files) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const raw of text.split('\n')) {
      if (raw.startsWith('{"')) {
        const entry = JSON.parse(raw) as { level?: number; msg?: string; err?: unknown; dependency?: string };
        if ((entry.level ?? 0) < 40) continue;
        const err = entry.err === undefined ? '' : typeof entry.err === 'string' ? entry.err : JSON.stringify(entry.err);
        add(fold(`${entry.level === 40 ? 'warn' : 'error'} ${entry.msg ?? ''}${entry.dependency ? ` [${entry.dependency}]` : ''}${err ? `: ${err}` : ''}`));
      } else {
        // The client's own logger prints `{ message: '...', fac: ..., name: 'fd-faults#producer-1' }`.
        const message = /^\s*message: '(.*)',?$/.exec(raw)?.[1];
        if (message !== undefined) add(fold(`kafka client: ${message.replace(/^\[thrd:[^\]]*\]: /, '')}`));
      }
    }
  }
  return [...counts].map(([line, count]) => ({ line, count })).sort((a, b) => b.count - a.count).slice(0, 12);
}

/** Digits folded (ports, offsets, times), so that one kind of line counts once. */
function fold(line: string): string {
  return line.replace(/\d+/g, 'N').slice(0, 160);
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
