// Redis memory per active account: simulated traffic for --accounts accounts (about
// --per-account payments each, over a day) through the default feature set, then
// used_memory's growth divided by the accounts. Cards, devices and merchants included.
// Usage: npx tsx bench/memory.ts [--accounts 100000] [--per-account 3]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { toParsedTransaction } from '../src/contract/transaction.js';
import { DEFAULT_FEATURE_SET } from '../src/features/definitions.js';
import { computeFeatures } from '../src/features/engine.js';
import { RedisFeatureStore } from '../src/features/redis/redis-store.js';
import { DEFAULT_SIMULATOR_OPTIONS, TransactionSimulator } from '../src/simulate/simulator.js';

const { values } = parseArgs({ options: { accounts: { type: 'string', default: '100000' }, 'per-account': { type: 'string', default: '3' } } });
const ACCOUNTS = Number(values.accounts);
const N = ACCOUNTS * Number(values['per-account']);
const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `bench-mem-${Date.now()}`;
const store = new RedisFeatureStore(client, { keyPrefix: prefix, allowedLatenessMs: 900_000, ttlMs: 3_600_000 });
const used = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);

const sim = new TransactionSimulator({ ...DEFAULT_SIMULATOR_OPTIONS, seed: 5, accounts: ACCOUNTS });
const t0 = Date.now() - 86_400_000;
const before = await used();
for (let i = 0; i < N; i += 5000) {
  const events = [];
  for (let k = i; k < Math.min(N, i + 5000); k++) events.push(toParsedTransaction(sim.next(t0 + Math.floor((k * 86_400_000) / N)).event));
  await computeFeatures(events, DEFAULT_FEATURE_SET, store);
}
const after = await used();
const keys = await client.keys(`${prefix}:*`);
const active = new Set(keys.filter((k) => k.includes('{account:')).map((k) => k)).size;
console.log(`${N} payments, ${active} active accounts, ${keys.length} entity keys (accounts, cards, devices, merchants)`);
console.log(`Redis used_memory grew ${((after - before) / 1024 / 1024).toFixed(1)} MiB: ${Math.round((after - before) / active)} bytes per active account, everything included`);
for (let i = 0; i < keys.length; i += 1000) await client.del(...keys.slice(i, i + 1000));
client.disconnect();
