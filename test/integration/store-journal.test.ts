// The decision journal against real Redis (one server, the store on its own thread, a
// 3-master Cluster, and a Cluster over TLS with a password): a worker that takes a partition over after another died decides the
// redelivered events on exactly the features they got the first time, and the one it
// replaced can no longer write anything.
import { afterAll, describe, expect, it } from 'vitest';
import { PartitionFencedError } from '../../src/contract/errors.js';
import { toParsedTransaction, type ParsedTransaction } from '../../src/contract/transaction.js';
import { DEFAULT_FEATURE_SET } from '../../src/features/definitions.js';
import { computeFeatures, partitionJournal, type BatchFeatures } from '../../src/features/engine.js';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import { loadConfig } from '../../src/config.js';
import { connectRedis } from '../../src/features/redis/connect.js';
import { RedisFeatureStore } from '../../src/features/redis/redis-store.js';
import { redisTarget } from '../../src/features/redis/target.js';
import type { FeatureStore } from '../../src/features/store.js';
import { ThreadedFeatureStore } from '../../src/features/threaded/threaded-store.js';
import { at, tx } from '../helpers/events.js';
import { secureClusterEnv } from '../helpers/secure-redis.js';
import { REDIS_CLUSTER_NODES, REDIS_URL, redis, uniqueName } from '../helpers/services.js';

const T = new Date(Date.now() - 3_600_000).toISOString();
const nodes = REDIS_CLUSTER_NODES ?? ['127.0.0.1:7000', '127.0.0.1:7001', '127.0.0.1:7002'];
const options = (keyPrefix: string) => ({ keyPrefix, allowedLatenessMs: 900_000, ttlMs: 40 * 86_400_000 });

const backends: Record<string, (prefix: string) => FeatureStore> = {
  'one Redis': (prefix) => new RedisFeatureStore(connectRedis({ url: REDIS_URL }), options(prefix)),
  'one Redis, store thread': (prefix) => new ThreadedFeatureStore({ target: { url: REDIS_URL }, options: options(prefix) }),
  'Redis Cluster': (prefix) => new RedisFeatureStore(connectRedis({ url: 'unused', clusterNodes: nodes }), options(prefix)),
  'Redis Cluster over TLS with a password, store thread': (prefix) => new ThreadedFeatureStore({ target: redisTarget(loadConfig(secureClusterEnv())), options: options(prefix) }),
};

function stream(tag: string, n: number): ParsedTransaction[] {
  return Array.from({ length: n }, (_, i) =>
    toParsedTransaction(tx({ transactionId: `${tag}-${i}`, accountId: `${tag}-a${i % 13}`, cardId: `${tag}-c${i % 9}`, merchantId: `${tag}-m${i % 4}`, deviceId: `${tag}-d${i % 6}`, amount: 3 + (i % 17), timestamp: at(T, i * 7_000) })),
  );
}

const rows = (f: BatchFeatures): number[][] => Array.from({ length: f.tooLate.length }, (_, r) => Array.from(f.values.subarray(r * f.width, (r + 1) * f.width)));
const offsets = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

describe.each(Object.keys(backends))('decision journal on %s', (backend) => {
  const make = backends[backend] as (prefix: string) => FeatureStore;
  const admin = redis();
  afterAll(() => admin.disconnect());

  it('a new owner decides the redelivered events as the first one did, and counts them once', async () => {
    const prefix = uniqueName('journal');
    const partition = `${prefix}-group/tx/0`;
    const events = stream(prefix, 400);
    const expected = rows(await computeFeatures(events, DEFAULT_FEATURE_SET, new MemoryFeatureStore({ allowedLatenessMs: 900_000 })));

    const first = make(prefix);
    const claimed = await first.claim(partition);
    const target = { id: partition, epoch: claimed.epoch };
    // Two batches decided and applied; the worker dies before committing either.
    const a = await computeFeatures(events.slice(0, 150), DEFAULT_FEATURE_SET, first, partitionJournal(target, offsets(0, 150)));
    const b = await computeFeatures(events.slice(150, 300), DEFAULT_FEATURE_SET, first, partitionJournal(target, offsets(150, 150)));
    expect([...rows(a), ...rows(b)]).toEqual(expected.slice(0, 300));

    const second = make(prefix);
    try {
      const taken = await second.claim(partition);
      expect(taken.record.size).toBe(300);
      // Read again from the last commit (offset 0), in other batch boundaries, with new events after.
      const redelivered = await computeFeatures(events.slice(0, 200), DEFAULT_FEATURE_SET, second, partitionJournal({ id: partition, epoch: taken.epoch }, offsets(0, 200), taken.record));
      const rest = await computeFeatures(events.slice(200), DEFAULT_FEATURE_SET, second, partitionJournal({ id: partition, epoch: taken.epoch }, offsets(200, 200), taken.record));
      expect([...rows(redelivered), ...rows(rest)]).toEqual(expected);
      expect([...redelivered.replayed, ...rest.replayed].filter((r) => r === 1)).toHaveLength(300);

      // The dead owner, had it lived on, is refused: nothing of its call is written.
      const zombie = computeFeatures(stream(`${prefix}-late`, 20), DEFAULT_FEATURE_SET, first, partitionJournal(target, offsets(400, 20)));
      await expect(zombie).rejects.toBeInstanceOf(PartitionFencedError);
      const late = await computeFeatures(stream(`${prefix}-late`, 20), DEFAULT_FEATURE_SET, new MemoryFeatureStore({ allowedLatenessMs: 900_000 }));
      const now = await computeFeatures(stream(`${prefix}-late`, 20), DEFAULT_FEATURE_SET, second, partitionJournal({ id: partition, epoch: taken.epoch }, offsets(400, 20)));
      expect(rows(now)).toEqual(rows(late));

      // Once offsets up to 420 are committed, the journal is empty again.
      await second.release(partition, 420);
      expect((await second.claim(partition)).record.size).toBe(0);
    } finally {
      await first.close();
      await second.close();
    }
  });
});
