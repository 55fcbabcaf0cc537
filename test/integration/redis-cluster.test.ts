// The Redis feature store on a 3-master Redis Cluster: each entity's key lives in its own
// hash slot, and the results equal the in-memory store's, for windows of every kind.
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import { connectRedis } from '../../src/features/redis/connect.js';
import { RedisFeatureStore } from '../../src/features/redis/redis-store.js';
import { Cluster } from 'ioredis';
import { windowSpec } from '../../src/features/windows.js';
import { REDIS_CLUSTER_NODES, uniqueName } from '../helpers/services.js';
import { messyStream, richWindows, toBatches } from '../helpers/streams.js';

const windows = richWindows(windowSpec);
const nodes = REDIS_CLUSTER_NODES ?? ['127.0.0.1:7000', '127.0.0.1:7001', '127.0.0.1:7002'];

describe('Redis Cluster feature store', () => {
  const cluster = connectRedis({ url: 'unused', clusterNodes: nodes });
  const prefix = uniqueName('cluster');
  afterAll(() => cluster.quit());
  if (!(cluster instanceof Cluster)) throw new Error('expected a cluster client');

  it('spreads entities over all masters and matches the in-memory store', async () => {
    const lateness = 600_000;
    const stream = messyStream({ seed: 3, events: 5000, entities: 200, outOfOrder: 0.1, maxDelayMs: 2 * lateness, duplicates: 0.05, startMs: Date.parse('2026-02-01T00:00:00Z'), meanGapMs: 20_000, values: [10, 30] });
    const store = new RedisFeatureStore(cluster, { keyPrefix: prefix, allowedLatenessMs: lateness, ttlMs: 600_000 });
    const memory = new MemoryFeatureStore({ allowedLatenessMs: lateness });
    for (let i = 0; i < stream.length; i += 500) {
      const batches = toBatches(stream.slice(i, i + 500), windows);
      expect(await store.observe(batches)).toEqual(await memory.observe(batches));
    }
    const masters = cluster.nodes('master');
    expect(masters).toHaveLength(3);
    const perMaster = await Promise.all(masters.map(async (m) => (await m.keys(`${prefix}:*`)).length));
    expect(perMaster.every((n) => n > 0)).toBe(true);
    expect(perMaster.reduce((a, b) => a + b, 0)).toBe(memory.size);
  });
});
