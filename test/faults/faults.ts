// The faults, each a function over the scenario's workers and services: SIGKILL workers
// (restarting each), a rebalance storm, bounce partition leaders and the active KRaft
// controller (alternately SIGKILL and a clean SIGTERM), an outage of 2 of the 3 brokers, and
// graceful Redis restarts. Choices (which worker, partition, broker) follow a seeded random.
import type { Random } from '../../src/simulate/random.js';
import { NODE_IDS, type FaultCluster } from './cluster.js';
import { sleep, type WorkerFleet, type WorkerProcess } from './workers.js';

export interface FaultContext {
  fleet: WorkerFleet;
  cluster: FaultCluster;
  rng: Random;
  transactionsTopic: string;
  /** Every topic of the scenario, and the group's offsets topic: waited on until in sync. */
  topics: string[];
  workers: number;
  /** The scenario's timeline. */
  log: (text: string) => void;
  /** When 2 of the 3 brokers were down: the workers had to report not-ready then. */
  outages: { startMs: number; endMs: number }[];
  /** When a worker last left without leaving the group (SIGKILL): its partitions wait for its session to time out. */
  lastUncleanExitMs: number;
}

export async function killWorkers(ctx: FaultContext, count: number, everyS: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    await sleep(everyS * 1000);
    const live = ctx.fleet.live();
    if (live.length === 0) continue;
    const victim = ctx.rng.pick(live);
    await ctx.fleet.kill(victim);
    ctx.lastUncleanExitMs = Date.now();
    const next = await ctx.fleet.start();
    ctx.log(`kill ${i}/${count}: SIGKILL ${victim.name}, started ${next.name}`);
  }
}

/** Workers join and leave (SIGTERM, a drain like any other) every `everyS`; then back to the usual count. */
export async function rebalanceStorm(ctx: FaultContext, durationS: number, everyS: number, maxWorkers: number): Promise<void> {
  const end = Date.now() + durationS * 1000;
  while (Date.now() < end) {
    const live = ctx.fleet.live();
    const join = live.length <= 1 || (live.length < maxWorkers && ctx.rng.chance(0.5));
    if (join) {
      const w = await ctx.fleet.start();
      ctx.log(`storm: ${w.name} joins (${live.length + 1} workers)`);
    } else {
      const w = ctx.rng.pick(live);
      leave(ctx, w);
      ctx.log(`storm: ${w.name} leaves (SIGTERM, ${live.length - 1} workers)`);
    }
    await sleep(everyS * 1000);
  }
  await restoreWorkers(ctx);
}

/** SIGTERM: a drain like any other; one that does not exit 0 left without leaving the group. */
function leave(ctx: FaultContext, w: WorkerProcess): void {
  void ctx.fleet.drain(w).then((d) => {
    if (d.code !== 0) ctx.lastUncleanExitMs = Date.now();
  });
}

/** Back to `ctx.workers` live workers. */
export async function restoreWorkers(ctx: FaultContext): Promise<void> {
  let live = ctx.fleet.live();
  while (live.length > ctx.workers) {
    const w = live[live.length - 1] as WorkerProcess;
    leave(ctx, w);
    ctx.log(`${w.name} leaves (SIGTERM): back to ${ctx.workers} workers`);
    live = ctx.fleet.live();
  }
  for (let n = live.length; n < ctx.workers; n++) {
    const w = await ctx.fleet.start();
    ctx.log(`${w.name} joins: back to ${ctx.workers} workers`);
  }
}

/** Stops a broker (SIGKILL, or a clean SIGTERM: a controlled shutdown), keeps it down `downS`, starts it. */
async function bounce(ctx: FaultContext, node: number, hard: boolean, downS: number, what: string): Promise<void> {
  const t0 = Date.now();
  if (hard) await ctx.cluster.killNode(node);
  else await ctx.cluster.stopNode(node);
  const stopped = Date.now();
  await sleep(downS * 1000);
  const t1 = Date.now();
  await ctx.cluster.startNode(node);
  ctx.log(`${what}: broker ${node} ${hard ? 'SIGKILL' : 'SIGTERM'} (stopped in ${seconds(stopped - t0)}), down ${downS} s, started in ${seconds(Date.now() - t1)}`);
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Before a broker goes down, every replica back in sync: two brokers out of the ISR at once would be an outage. */
async function inSync(ctx: FaultContext): Promise<void> {
  const t0 = Date.now();
  if (!(await ctx.cluster.waitInSync(ctx.topics))) ctx.log('replicas still not in sync after 120 s; going on');
  else if (Date.now() - t0 > 2000) ctx.log(`replicas back in sync after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

export async function bounceLeaders(ctx: FaultContext, count: number, downS: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    await inSync(ctx);
    const leaders = await ctx.cluster.leaders(ctx.transactionsTopic);
    const partition = ctx.rng.pick([...leaders.keys()]);
    // Clean first, then hard, in turn; the controller bounces take the other turn.
    await bounce(ctx, leaders.get(partition) as number, i % 2 === 0, downS, `leader bounce ${i}/${count} (partition ${partition})`);
  }
  await inSync(ctx);
}

export async function bounceControllers(ctx: FaultContext, count: number, downS: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    // Asked while the replicas get back in sync: nothing changes the controller meanwhile.
    const t0 = Date.now();
    const [controller] = await Promise.all([ctx.cluster.activeController(), inSync(ctx)]);
    ctx.log(`the active controller is node ${controller} (MetadataQuorumCommand, ${seconds(Date.now() - t0)})`);
    await bounce(ctx, controller, i % 2 === 1, downS, `controller bounce ${i}/${count} (active controller)`);
  }
  await inSync(ctx);
}

/** Two of the three brokers SIGKILLed for `durationS` (the controller quorum and min ISR lost), then started again. */
export async function brokerOutage(ctx: FaultContext, durationS: number): Promise<void> {
  await inSync(ctx);
  const spared = ctx.rng.pick(NODE_IDS);
  const down = NODE_IDS.filter((n) => n !== spared);
  await Promise.all(down.map((n) => ctx.cluster.killNode(n)));
  const startMs = Date.now();
  ctx.log(`outage: brokers ${down.join(' and ')} SIGKILLed`);
  await sleep(durationS * 1000);
  const endMs = Date.now();
  ctx.outages.push({ startMs, endMs });
  await Promise.all(down.map((n) => ctx.cluster.startNode(n)));
  ctx.log(`outage: brokers ${down.join(' and ')} back after ${((Date.now() - startMs) / 1000).toFixed(1)} s`);
  await inSync(ctx);
}

export async function restartRedis(ctx: FaultContext, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    const t0 = Date.now();
    await ctx.cluster.restartRedis();
    ctx.log(`redis restart ${i}/${count}: SHUTDOWN (AOF flushed) and started, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
}
