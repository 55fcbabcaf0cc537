// Feature-store benchmark against the local Redis: simulated transactions through the
// default feature set (or a definitions file) in worker-sized batches; prints wall time and
// Redis CPU per event.
// Usage: npx tsx bench/features.ts [--events 100000] [--batch 2500] [--features features/examples.yaml]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { toParsedTransaction } from '../src/contract/transaction.js';
import { DEFAULT_FEATURE_SET } from '../src/features/definitions.js';
import { loadFeatureSet } from '../src/features/load.js';
import { computeFeatures } from '../src/features/engine.js';
import { RedisFeatureStore } from '../src/features/redis/redis-store.js';
import { DEFAULT_SIMULATOR_OPTIONS, TransactionSimulator } from '../src/simulate/simulator.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '100000' }, batch: { type: 'string', default: '2500' }, features: { type: 'string' } } });
const SET = values.features === undefined ? DEFAULT_FEATURE_SET : loadFeatureSet(values.features);
const N = Number(values.events);
const BATCH = Number(values.batch);
const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `bench-features-${Date.now()}`;
const store = new RedisFeatureStore(client, { keyPrefix: prefix, allowedLatenessMs: 900_000, ttlMs: 3_600_000 });

const sim = new TransactionSimulator({ ...DEFAULT_SIMULATOR_OPTIONS, seed: 21 });
const base = Date.now() - N;
const events = Array.from({ length: N }, (_, i) => toParsedTransaction(sim.next(base + i).event));

async function redisScriptMicros(): Promise<number> {
  const info = await client.info('commandstats');
  return Number(/cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(info)?.[1] ?? 0) + Number(/cmdstat_eval:calls=\d+,usec=(\d+)/.exec(info)?.[1] ?? 0);
}

const redisBefore = await redisScriptMicros();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < N; i += BATCH) await computeFeatures(events.slice(i, i + BATCH), SET, store);
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const redisMicros = (await redisScriptMicros()) - redisBefore;
const entities = SET.entities.map((e) => `${e.entity}(${e.windows.map((w) => w.name + (w.filter ? '?' : '') + (w.extremes ? '+x' : '') + (w.distinct ?? []).map((d) => `+distinct:${d.name}`).join('')).join(',')})`).join(' ');
// Keys first, output after: a reader that closes the pipe early (`| head`) leaves nothing behind.
const keys = await client.keys(`${prefix}:*`);
for (let i = 0; i < keys.length; i += 1000) await client.del(...keys.slice(i, i + 1000));
client.disconnect();
console.log(`features (${SET.names.length}) for ${N} events in batches of ${BATCH}: ${wall.toFixed(2)} s = ${Math.round(N / wall)} events/s; ${((wall * 1e6) / N).toFixed(1)} µs/event wall, ${(redisMicros / N).toFixed(1)} µs/event in Redis's script, ${((cpu.user + cpu.system) / N).toFixed(1)} µs/event of this process's CPU\nentities and windows: ${entities}`);
