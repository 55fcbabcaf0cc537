// The feature store on its own thread: the same observations as the in-process algorithm,
// concurrent calls answered each with its own results, and Redis failures surfacing as the
// retriable StoreUnavailableError the worker's retry loop expects.
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/contract/errors.js';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import type { EntityBatch } from '../../src/features/store.js';
import { ThreadedFeatureStore } from '../../src/features/threaded/threaded-store.js';
import { windowSpec } from '../../src/features/windows.js';
import { freePort } from '../helpers/redis-server.js';
import { REDIS_URL, redis, uniqueName } from '../helpers/services.js';
import { messyStream, richWindows, toBatches } from '../helpers/streams.js';

const lateness = 3_600_000;
const accountWindows = ['10m', '1h', '1d'].map(windowSpec);
/** Filtered windows, extremes and distinct counts: their masks and value hashes cross to the thread. */
const merchantWindows = richWindows(windowSpec);

/** Two window layouts in one call: even entities as accounts, odd ones as merchants. */
function mixed(batches: EntityBatch[]): EntityBatch[] {
  return batches.map((b, i) => (i % 2 === 0 ? b : { ...b, entity: 'merchant', windows: merchantWindows }));
}

describe('threaded feature store', () => {
  const client = redis();
  const prefix = uniqueName('threaded');
  afterAll(async () => {
    const keys = await client.keys(`${prefix}:*`);
    if (keys.length > 0) await client.del(...keys);
    client.disconnect();
  });

  it('gives the memory store\'s observations on 20,000 out-of-order and duplicated events', async () => {
    const stream = messyStream({ seed: 11, events: 20_000, entities: 200, outOfOrder: 0.1, maxDelayMs: 2 * lateness, duplicates: 0.03, startMs: Date.parse('2026-02-01T00:00:00Z'), meanGapMs: 30_000, values: [10, 30] });
    const memory = new MemoryFeatureStore({ allowedLatenessMs: lateness });
    const threaded = new ThreadedFeatureStore({ target: { url: REDIS_URL }, options: { keyPrefix: prefix, allowedLatenessMs: lateness, ttlMs: 3_600_000 } });
    try {
      let duplicates = 0;
      for (let i = 0; i < stream.length; i += 1000) {
        const batches = mixed(toBatches(stream.slice(i, i + 1000), accountWindows));
        const [fromThread, fromMemory] = await Promise.all([threaded.observe(batches), memory.observe(batches)]);
        expect(fromThread.all()).toEqual(fromMemory.all());
        duplicates += fromMemory.all().filter((o) => o.duplicate).length;
      }
      expect(duplicates).toBeGreaterThan(0);
    } finally {
      await threaded.close();
    }
  });

  it('answers concurrent calls each with its own results', async () => {
    const threaded = new ThreadedFeatureStore({ target: { url: REDIS_URL }, options: { keyPrefix: `${prefix}-c`, allowedLatenessMs: lateness, ttlMs: 3_600_000 } });
    const t = Date.parse('2026-02-01T00:00:00Z');
    const call = (id: string, n: number): EntityBatch[] => [{ entity: 'account', id, windows: accountWindows, events: Array.from({ length: n }, (_, k) => ({ transactionId: `${id}-${k}`, eventTimeMs: t + k * 1000, amount: 10 })) }];
    try {
      const results = await Promise.all([threaded.observe(call('a', 3)), threaded.observe(call('b', 5)), threaded.observe(call('c', 1))]);
      expect(results.map((r) => r.entry(0).at(-1)?.windows[0]?.count)).toEqual([3, 5, 1]);
    } finally {
      await threaded.close();
    }
  });

  it('fails a call with a retriable StoreUnavailableError when Redis is unreachable, and refuses calls once closed', async () => {
    const threaded = new ThreadedFeatureStore({ target: { url: `redis://127.0.0.1:${await freePort()}` }, options: { keyPrefix: prefix, allowedLatenessMs: lateness, ttlMs: 3_600_000 } });
    const batch: EntityBatch[] = [{ entity: 'account', id: 'x', windows: accountWindows, events: [{ transactionId: 't', eventTimeMs: Date.now(), amount: 1 }] }];
    const failure = await threaded.observe(batch).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    expect((failure as StoreUnavailableError).retriable).toBe(true);
    expect((failure as Error).message).toMatch(/redis feature update failed/);
    await threaded.close();
    await expect(threaded.observe(batch)).rejects.toThrow(/closed/);
  });

  it('fails the calls of a thread that dies, and starts a new thread for the next call', async () => {
    let started = 0;
    const threaded = new ThreadedFeatureStore({
      target: { url: REDIS_URL },
      options: { keyPrefix: `${prefix}-d`, allowedLatenessMs: lateness, ttlMs: 3_600_000 },
      // A thread that exits on its first request, as one that ran out of memory would.
      spawnThread: (data) => {
        started++;
        return new Worker(`require('node:worker_threads').parentPort.once('message', () => process.exit(3));`, { eval: true, workerData: data });
      },
    });
    const batch: EntityBatch[] = [{ entity: 'account', id: 'x', windows: accountWindows, events: [{ transactionId: 't', eventTimeMs: Date.now(), amount: 1 }] }];
    try {
      await expect(threaded.observe(batch)).rejects.toThrow(StoreUnavailableError);
      await expect(threaded.observe(batch)).rejects.toThrow(/exited \(code 3\)/);
      expect(started).toBe(2);
    } finally {
      await threaded.close();
    }
  });
});
