// The Redis store (states read, applied in-process, compare-and-set back) and the in-memory
// store run one algorithm: identical observations, event for event, on a messy stream (out
// of order, too late, duplicated), for windows of every kind (filtered, min and max, distinct).
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import { RedisFeatureStore } from '../../src/features/redis/redis-store.js';
import { windowSpec } from '../../src/features/windows.js';
import { redis, uniqueName } from '../helpers/services.js';
import { messyStream, richWindows, toBatches } from '../helpers/streams.js';

const windows = [...richWindows(windowSpec), windowSpec('7d')];
const lateness = 3_600_000;

describe('store parity: Redis and memory', () => {
  const client = redis();
  const prefix = uniqueName('parity');
  afterAll(async () => {
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  });

  it('gives identical observations on 100,000 out-of-order and duplicated events', async () => {
    const stream = messyStream({ seed: 7, events: 100_000, entities: 300, outOfOrder: 0.1, maxDelayMs: 2 * lateness, duplicates: 0.03, startMs: Date.parse('2026-01-01T00:00:00Z'), meanGapMs: 40_000, values: [12, 40] });
    const memory = new MemoryFeatureStore({ allowedLatenessMs: lateness });
    const store = new RedisFeatureStore(client, { keyPrefix: prefix, allowedLatenessMs: lateness, ttlMs: 3_600_000 });
    let compared = 0;
    let late = 0;
    let dups = 0;
    let capped = 0;
    for (let i = 0; i < stream.length; i += 1000) {
      const batches = toBatches(stream.slice(i, i + 1000), windows);
      const [fromRedis, fromMemory] = await Promise.all([store.observe(batches), memory.observe(batches)]);
      expect(fromRedis).toEqual(fromMemory);
      for (const obs of fromMemory.all()) {
        compared++;
        if (obs.tooLate) late++;
        if (obs.duplicate) dups++;
        if (obs.windows[1]?.distinct?.[0] === 5) capped++;
      }
    }
    expect(compared).toBe(stream.length);
    // The stream really exercised the late and duplicate paths.
    expect(late).toBeGreaterThan(100);
    expect(dups).toBeGreaterThan(100);
    expect(capped).toBeGreaterThan(100);
  });
});
