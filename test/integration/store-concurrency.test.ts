// Two workers updating the same entities at once lose no update: the compare-and-set
// makes the loser read again and recompute.
import { afterAll, describe, expect, it } from 'vitest';
import { RedisFeatureStore } from '../../src/features/redis/redis-store.js';
import type { EntityBatch } from '../../src/features/store.js';
import { windowSpec } from '../../src/features/windows.js';
import { redis, uniqueName } from '../helpers/services.js';

const windows = [windowSpec('1d')];
const T0 = Date.parse('2026-04-01T00:00:00Z');

describe('Redis store under concurrent writers', () => {
  const clients = [redis(), redis()];
  afterAll(() => clients.forEach((c) => c.disconnect()));

  it('counts every event of shared entities exactly once', async () => {
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
        events: Array.from({ length: 5 }, (_, k) => ({ transactionId: `w${writer}-r${round}-${id}-${k}`, eventTimeMs: T0 + round * 1000 + k, amount: 1 })),
      }));
    await Promise.all(stores.map(async (store, writer) => {
      for (let round = 0; round < rounds; round++) await store.observe(batchFor(writer, round));
    }));
    // One more event per merchant reads the final state: every event counted once.
    const [final] = await Promise.all([stores[0]?.observe(merchants.map((id) => ({ entity: 'merchant' as const, id, windows, events: [{ transactionId: `final-${id}`, eventTimeMs: T0 + rounds * 1000 + 10, amount: 1 }] })))]);
    for (const obs of final ?? []) expect(obs[0]?.windows[0]?.count).toBe(2 * rounds * 5 + 1);
    // The writers really collided, so the compare-and-set path was exercised.
    expect(conflicts).toBeGreaterThan(0);
  });
});
