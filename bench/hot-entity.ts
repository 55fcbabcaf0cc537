// Per-event feature cost for a hot entity next to a fresh one, against the local Redis.
// Fills one merchant with --events payments inside its 30-day window, then times single-event
// batches for that merchant and for merchants never seen before. `--windows rich` adds the
// costliest kinds: the 30-day window keeps min and max and counts distinct cards (each
// payment from one of 100,000 cards), and a filtered 1-day window counts small payments.
// Usage: npx tsx bench/hot-entity.ts [--events 1000000] [--samples 2000] [--windows plain|rich]
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { windowSpec } from '../src/features/windows.js';
import { RedisFeatureStore } from '../src/features/redis/redis-store.js';
import type { EntityBatch, EntityEvent } from '../src/features/store.js';
import { idHash } from '../src/features/id-hash.js';
import { DEFAULT_DISTINCT_LIMIT } from '../src/features/definitions.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, samples: { type: 'string', default: '2000' }, windows: { type: 'string', default: 'plain' } } });
const N = Number(values.events);
const SAMPLES = Number(values.samples);
const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `bench-hot-${Date.now()}`;
const store = new RedisFeatureStore(client, { keyPrefix: prefix, allowedLatenessMs: 900_000, ttlMs: 3_600_000 });
const plain = ['1h', '1d', '7d', '30d'].map(windowSpec);
const rich = [
  ...plain.slice(0, 3),
  { ...windowSpec('30d'), extremes: true, distinct: [{ field: 0, name: 'cardId', limit: DEFAULT_DISTINCT_LIMIT }] },
  { ...windowSpec('1d'), filter: { bit: 1, expression: 'event.amount < 20.0' } },
];
const windows = values.windows === 'rich' ? rich : plain;
const card = (k: number): Float64Array => Float64Array.of(idHash(`card-${(k * 7919) % 100_000}`));
const span = 29 * 86_400_000;
const t0 = Date.now() - span;
const gap = span / N;

const payment = (tag: string, k: number, eventTimeMs: number, amount: number): EntityEvent =>
  windows === rich ? { transactionId: `${tag}-${k}`, eventTimeMs, amount, mask: amount < 20 ? 1 : 0, distinct: card(k) } : { transactionId: `${tag}-${k}`, eventTimeMs, amount };
const batch = (id: string, from: number, count: number, tag: string): EntityBatch[] => [
  { entity: 'merchant', id, windows, events: Array.from({ length: count }, (_, k) => payment(tag, from + k, Math.floor(t0 + (from + k) * gap), 10 + ((from + k) % 50))) },
];

const fillStart = performance.now();
for (let i = 0; i < N; i += 10_000) await store.observe(batch('hot', i, Math.min(10_000, N - i), 'fill'));
console.log(`windows: ${values.windows === 'rich' ? '1h, 1d, 7d, 30d with min, max and distinct cards, 1d filtered' : '1h, 1d, 7d, 30d'}`);
console.log(`filled merchant "hot" with ${N} events over 29 days in ${((performance.now() - fillStart) / 1000).toFixed(1)} s; state ${(await client.strlen((await client.keys(`${prefix}:*hot*`))[0] as string))} bytes`);

/** Microseconds of one store call. */
async function once(batches: EntityBatch[]): Promise<number> {
  const start = performance.now();
  await store.observe(batches);
  return (performance.now() - start) * 1000;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

// Hot and fresh calls alternate, so both see the same machine: this box's noise moves
// sequential sub-millisecond round trips by more than the difference being measured.
const hotProbe = (i: number): EntityBatch[] => batch('hot', N + 1000 + i, 1, 'probe');
const freshProbe = (i: number): EntityBatch[] => batch(`fresh-${i}`, N + 1000 + i, 1, 'fresh');
for (let i = 0; i < 200; i++) {
  await once(hotProbe(-i - 1));
  await once(freshProbe(-i - 1));
}
const hotTimes: number[] = [];
const freshTimes: number[] = [];
for (let i = 0; i < SAMPLES; i++) {
  hotTimes.push(await once(hotProbe(i)));
  freshTimes.push(await once(freshProbe(i)));
}
const hot = median(hotTimes);
const fresh = median(freshTimes);
console.log(`hot merchant (1 event into a full 30-day history): ${hot.toFixed(0)} µs per single-event batch (read, apply, compare-and-set; median of ${SAMPLES})`);
console.log(`fresh merchant (first event): ${fresh.toFixed(0)} µs per single-event batch`);
console.log(`hot / fresh: ${(hot / fresh).toFixed(2)}×`);

// A burst: 50,000 payments of one merchant within 200 s, all in one dedupe bucket, in
// batches of 5,000 (each event is checked against every id already applied in its bucket).
const burstStart = performance.now();
const BURST = 50_000;
for (let i = 0; i < BURST; i += 5000) {
  await store.observe([{ entity: 'merchant', id: 'burst', windows, events: Array.from({ length: 5000 }, (_, k) => payment('burst', i + k, Date.now() + Math.floor((i + k) / 250), 1)) }]);
}
console.log(`burst: ${BURST} events of one merchant within 200 s: ${(((performance.now() - burstStart) * 1000) / BURST).toFixed(1)} µs per event`);
const keys = await client.keys(`${prefix}:*`);
for (let i = 0; i < keys.length; i += 1000) await client.del(...keys.slice(i, i + 1000));
client.disconnect();
