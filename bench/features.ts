// Feature-store benchmark against the local Redis: simulated transactions through the
// default feature set (or a definitions file) in worker-sized batches; prints wall time,
// Redis CPU and this process's CPU per event, without and with the decision journal (the rows
// a worker journals per partition until its offsets are committed), and the journal's size.
// Usage: npx tsx bench/features.ts [--events 100000] [--batch 2500] [--features features/examples.yaml] [--journal both|on|off] [--rounds 2]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { toParsedTransaction } from '../src/contract/transaction.js';
import { DEFAULT_FEATURE_SET } from '../src/features/definitions.js';
import { loadFeatureSet } from '../src/features/load.js';
import { computeFeatures, partitionJournal, type BatchJournal } from '../src/features/engine.js';
import { journalKeys, RedisFeatureStore } from '../src/features/redis/redis-store.js';
import { DEFAULT_SIMULATOR_OPTIONS, TransactionSimulator } from '../src/simulate/simulator.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '100000' }, batch: { type: 'string', default: '2500' }, features: { type: 'string' }, journal: { type: 'string', default: 'both' }, rounds: { type: 'string', default: '2' } } });
const SET = values.features === undefined ? DEFAULT_FEATURE_SET : loadFeatureSet(values.features);
const N = Number(values.events);
const BATCH = Number(values.batch);
const modes = values.journal === 'both' ? [false, true] : [values.journal === 'on'];
const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefixes: string[] = [];

const sim = new TransactionSimulator({ ...DEFAULT_SIMULATOR_OPTIONS, seed: 21 });
const base = Date.now() - N;
const events = Array.from({ length: N }, (_, i) => toParsedTransaction(sim.next(base + i).event));

/** Microseconds Redis spent in commands so far: the scripts, and every command (reads included). */
async function redisMicros(): Promise<{ scripts: number; all: number }> {
  const info = await client.info('commandstats');
  let scripts = 0;
  let all = 0;
  for (const [, name, usec] of info.matchAll(/cmdstat_([a-z|]+):calls=\d+,usec=(\d+)/g)) {
    all += Number(usec);
    if (name === 'evalsha' || name === 'eval') scripts += Number(usec);
  }
  return { scripts, all };
}

interface Run {
  wall: number;
  redisMicros: number;
  /** Every command's time, the reads included. */
  redisAllMicros: number;
  cpuMicros: number;
  /** Bytes of Redis memory the journal held per journaled event, at its fullest (one batch). */
  journalBytes: number;
}

async function run(journaled: boolean): Promise<Run> {
  const prefix = `bench-features-${Date.now()}-${journaled ? 'j' : 'n'}`;
  prefixes.push(prefix);
  const store = new RedisFeatureStore(client, { keyPrefix: prefix, allowedLatenessMs: 900_000, ttlMs: 3_600_000 });
  const partition = 'bench/transactions/0';
  const { epoch } = await store.claim(partition);
  let journalBytes = 0;
  const redisBefore = await redisMicros();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const batch = events.slice(i, i + BATCH);
    const journal: BatchJournal | undefined = journaled ? partitionJournal({ id: partition, epoch }, batch.map((_, k) => i + k)) : undefined;
    await computeFeatures(batch, SET, store, journal);
    if (journaled && i === 0) journalBytes = ((await client.memory('USAGE', journalKeys(prefix, partition).journal)) ?? 0) / batch.length;
    // The worker drops a batch's journal entries once its commit is accepted.
    if (journaled) await store.release(partition, i + batch.length);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const redisAfter = await redisMicros();
  return { wall, redisMicros: redisAfter.scripts - redisBefore.scripts, redisAllMicros: redisAfter.all - redisBefore.all, cpuMicros: cpu.user + cpu.system, journalBytes };
}

const results = new Map<boolean, Run[]>(modes.map((m) => [m, []]));
for (let round = 0; round < Number(values.rounds); round++) for (const mode of modes) results.get(mode)?.push(await run(mode));
const entities = SET.entities.map((e) => `${e.entity}(${e.windows.map((w) => w.name + (w.filter ? '?' : '') + (w.extremes ? '+x' : '') + (w.distinct ?? []).map((d) => `+distinct:${d.name}`).join('')).join(',')})`).join(' ');
// Keys first, output after: a reader that closes the pipe early (`| head`) leaves nothing behind.
for (const prefix of prefixes) {
  const keys = await client.keys(`${prefix}:*`);
  for (let i = 0; i < keys.length; i += 1000) await client.del(...keys.slice(i, i + 1000));
}
client.disconnect();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
console.log(`features (${SET.names.length}) for ${N} events in batches of ${BATCH}, median of ${values.rounds} rounds\nentities and windows: ${entities}`);
for (const [mode, runs] of results) {
  const wall = median(runs.map((r) => r.wall));
  const line = `journal ${mode ? 'on ' : 'off'}: ${wall.toFixed(2)} s = ${Math.round(N / wall)} events/s; ${((wall * 1e6) / N).toFixed(1)} µs/event wall, ${(median(runs.map((r) => r.redisMicros)) / N).toFixed(1)} µs/event in Redis's script (${(median(runs.map((r) => r.redisAllMicros)) / N).toFixed(1)} in all its commands), ${(median(runs.map((r) => r.cpuMicros)) / N).toFixed(1)} µs/event of this process's CPU`;
  console.log(mode ? `${line}; the journal holds ${Math.round(median(runs.map((r) => r.journalBytes)))} bytes per event until its batch is committed` : line);
}
