// Two workers updating the same entities at once lose no update: the compare-and-set
// makes the loser read again and recompute. Within one worker, calls in flight together
// build on each other's writes, and the coalescing store merges queued calls.
import { afterAll, describe, expect, it } from 'vitest';
import { RedisFeatureStore } from '../../src/features/redis/redis-store.js';
import { CoalescingFeatureStore } from '../../src/features/coalescing-store.js';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import type { EntityBatch } from '../../src/features/store.js';
import { windowSpec } from '../../src/features/windows.js';
import { redis, uniqueName } from '../helpers/services.js';
import { delegating } from '../helpers/stores.js';

const windows = [windowSpec('1d')];
const T0 = Date.parse('2026-04-01T00:00:00Z');

describe('Redis store under concurrent writers', () => {
  const clients = [redis(), redis()];
  afterAll(() => clients.forEach((c) => c.disconnect()));

  // States above 4 KB are checked with GETRANGE before the SET, smaller ones by SET ... GET.
  it.each([
    ['small states', 5, (bytes: number) => bytes < 4096],
    ['large states', 60, (bytes: number) => bytes > 4096],
  ])('counts every event of shared entities exactly once, with %s', async (_, perRound, sized) => {
    const prefix = uniqueName('conc');
    let conflicts = 0;
    const stores = clients.map((c) => new RedisFeatureStore(c, { keyPrefix: prefix, allowedLatenessMs: 3_600_000, ttlMs: 600_000, onConflict: (n) => (conflicts += n) }));
    const merchants = ['m1', 'm2', 'm3'];
    const rounds = 40;
    const batchFor = (writer: number, round: number): EntityBatch[] =>
      merchants.map((id) => ({
        entity: 'merchant',
        id,
        windows,
        events: Array.from({ length: perRound }, (_, k) => ({ transactionId: `w${writer}-r${round}-${id}-${k}`, eventTimeMs: T0 + round * 1000 + k, amount: 1 })),
      }));
    await Promise.all(stores.map(async (store, writer) => {
      for (let round = 0; round < rounds; round++) await store.observe(batchFor(writer, round));
    }));
    // One more event per merchant reads the final state: every event counted once.
    const [final] = await Promise.all([stores[0]?.observe(merchants.map((id) => ({ entity: 'merchant' as const, id, windows, events: [{ transactionId: `final-${id}`, eventTimeMs: T0 + rounds * 1000 + 10, amount: 1 }] })))]);
    for (const obs of final?.all() ?? []) expect(obs.windows[0]?.count).toBe(2 * rounds * perRound + 1);
    // The writers really collided, so the compare-and-set path was exercised, on states of this size.
    expect(conflicts).toBeGreaterThan(0);
    const [key] = await (clients[0] as (typeof clients)[number]).keys(`${prefix}:*m1*`);
    expect(sized(await (clients[0] as (typeof clients)[number]).strlen(key as string))).toBe(true);
  });
});

describe('one Redis store with calls in flight together', () => {
  const client = redis();
  afterAll(() => client.disconnect());

  it('builds each call on the writes of the one before it: every event counted once, no conflict', async () => {
    const prefix = uniqueName('pipe');
    let conflicts = 0;
    const store = new RedisFeatureStore(client, { keyPrefix: prefix, allowedLatenessMs: 3_600_000, ttlMs: 600_000, onConflict: (n) => (conflicts += n) });
    const calls = 30;
    const batch = (call: number): EntityBatch[] =>
      ['m1', 'm2'].map((id) => ({ entity: 'merchant', id, windows, events: [{ transactionId: `c${call}-${id}`, eventTimeMs: T0 + call * 1000, amount: 1 }] }));
    // All calls start before any finishes: each reads while earlier writes are still in flight.
    const results = await Promise.all(Array.from({ length: calls }, (_, c) => store.observe(batch(c))));
    const counts = results.map((r) => r.at(0, 0).windows[0]?.count);
    expect(counts).toEqual(Array.from({ length: calls }, (_, c) => c + 1));
    expect(conflicts).toBe(0);
  });
});

describe('coalescing store', () => {
  it('merges concurrent calls into one and gives each call what the calls would have seen one after another', async () => {
    const sequential = new MemoryFeatureStore({ allowedLatenessMs: 3_600_000 });
    const inner = new MemoryFeatureStore({ allowedLatenessMs: 3_600_000 });
    let innerCalls = 0;
    const counting = delegating(inner, { observe: (b) => (innerCalls++, inner.observe(b)) });
    const coalescing = new CoalescingFeatureStore(counting, 1);
    const call = (n: number): EntityBatch[] => [
      { entity: 'merchant', id: 'shared', windows, events: [{ transactionId: `s${n}`, eventTimeMs: T0 + n, amount: n }] },
      { entity: 'account', id: `a${n}`, windows, events: [{ transactionId: `a${n}`, eventTimeMs: T0 + n, amount: n }, { transactionId: `a${n}b`, eventTimeMs: T0 + n + 1, amount: 1 }] },
    ];
    const together = await Promise.all([1, 2, 3, 4].map((n) => coalescing.observe(call(n))));
    const oneByOne = [];
    for (const n of [1, 2, 3, 4]) oneByOne.push(await sequential.observe(call(n)));
    expect(together.map((o) => o.all())).toEqual(oneByOne.map((o) => o.all()));
    // The first call ran alone; the three that queued behind it went as one.
    expect(innerCalls).toBe(2);
  });

  it('fails every merged call when the store fails', async () => {
    const failing = delegating(new MemoryFeatureStore({ allowedLatenessMs: 0 }), { observe: () => Promise.reject(new Error('redis down')) });
    const coalescing = new CoalescingFeatureStore(failing, 1);
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => coalescing.observe([{ entity: 'account', id: 'a', windows, events: [{ transactionId: 't', eventTimeMs: T0, amount: 1 }] }])));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });
});

describe('coalescing store with a very hot entity', () => {
  it('merges calls whose shared entity has more events than a function takes arguments', async () => {
    const coalescing = new CoalescingFeatureStore(new MemoryFeatureStore({ allowedLatenessMs: 3_600_000 }), 1);
    const sequential = new MemoryFeatureStore({ allowedLatenessMs: 3_600_000 });
    const n = 150_000;
    // Ten seconds apart, so each dedupe bucket holds few ids.
    const many = (call: number): EntityBatch[] => [
      { entity: 'merchant', id: 'hot', windows, events: Array.from({ length: n }, (_, k) => ({ transactionId: `h${call}-${k}`, eventTimeMs: T0 + (call * n + k) * 10_000, amount: 1 })) },
    ];
    const together = await Promise.all([0, 1, 2].map((c) => coalescing.observe(many(c))));
    const oneByOne = [];
    for (const c of [0, 1, 2]) oneByOne.push(await sequential.observe(many(c)));
    expect(together.map((o) => o.at(0, n - 1))).toEqual(oneByOne.map((o) => o.at(0, n - 1)));
    expect(together[2]?.at(0, n - 1).previousTimeMs).toBe(T0 + (3 * n - 2) * 10_000);
  });
});
