// Replaying the same events against real Redis changes no feature: every transaction of the
// second pass is recognised as applied, and the state is byte-for-byte what it was.
import { afterAll, describe, expect, it } from 'vitest';
import { RedisFeatureStore } from '../../src/features/redis/redis-store.js';
import { windowSpec } from '../../src/features/windows.js';
import { redis, uniqueName } from '../helpers/services.js';
import { messyStream, richWindows, toBatches } from '../helpers/streams.js';

const windows = richWindows(windowSpec);

describe('Redis store idempotency', () => {
  const client = redis();
  afterAll(() => client.disconnect());

  it('replaying the same 10,000 events twice changes no feature', async () => {
    const prefix = uniqueName('idem');
    const store = new RedisFeatureStore(client, { keyPrefix: prefix, allowedLatenessMs: 900_000, ttlMs: 600_000 });
    const stream = messyStream({ seed: 11, events: 10_000, entities: 500, outOfOrder: 0.05, maxDelayMs: 600_000, duplicates: 0, startMs: Date.now() - 86_400_000, meanGapMs: 5000, values: [8, 30] });
    const snapshot = async (): Promise<Map<string, string>> => {
      const keys = await client.keys(`${prefix}:*`);
      const values = keys.length > 0 ? await client.mgetBuffer(...keys) : [];
      return new Map(keys.map((k, i) => [k, values[i]?.toString('base64') ?? '']));
    };
    for (let i = 0; i < stream.length; i += 1000) await store.observe(toBatches(stream.slice(i, i + 1000), windows));
    const before = await snapshot();
    let replayed = 0;
    for (let i = 0; i < stream.length; i += 1000) {
      const obs = await store.observe(toBatches(stream.slice(i, i + 1000), windows));
      for (const o of obs.all()) {
        expect(o.duplicate || o.tooLate).toBe(true);
        replayed++;
      }
    }
    expect(replayed).toBe(10_000);
    expect(await snapshot()).toEqual(before);
    expect(before.size).toBe(500);
  });
});
