// A batch that fails for a reason retrying cannot fix (here: a store call throwing a plain
// Error, as a bug would) is not committed past: its partition is rewound and read again, and
// the batches handed out behind it are neither decided nor committed until then.
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import type { FeatureStore } from '../../src/features/store.js';
import { at, tx } from '../helpers/events.js';
import { closePollingAdmin, committedOffsets, consumeAll, produce, readAll } from '../helpers/services.js';
import { delegating } from '../helpers/stores.js';
import { testWorld } from '../helpers/worker.js';

describe('worker rewinding a failed batch', () => {
  afterAll(() => closePollingAdmin());

  it('reads the failed batch again and loses no event', async () => {
    const world = testWorld({ BATCH_MAX_SIZE: '50' });
    await world.setup();
    const T = new Date(Date.now() - 3_600_000).toISOString();
    const events = Array.from({ length: 600 }, (_, i) => tx({ transactionId: `rw-${i}`, accountId: `a${i % 30}`, timestamp: at(T, i * 1000) }));
    await produce(world.config.TOPIC_TRANSACTIONS, events.map((e) => ({ key: e.accountId, value: JSON.stringify(e) })));
    let calls = 0;
    const failing = (inner: FeatureStore): FeatureStore => delegating(inner, { observe: (batches) => (++calls % 4 === 2 ? Promise.reject(new Error('a bug in the feature code')) : inner.observe(batches)) });
    const running = await world.start({ wrapStore: failing });
    // Per partition, the batches committed, in order: each must start where the last ended.
    const gaps: string[] = [];
    const next = new Map<number, bigint>();
    running.worker.onBatch((r) => {
      const expected = next.get(r.partition) ?? 0n;
      if (BigInt(r.firstOffset) !== expected) gaps.push(`partition ${r.partition}: committed from ${r.firstOffset}, expected ${expected}`);
      next.set(r.partition, BigInt(r.lastOffset) + 1n);
    });
    try {
      const committed = async (): Promise<bigint> => [...(await committedOffsets(world.config.KAFKA_GROUP_ID, world.config.TOPIC_TRANSACTIONS)).values()].reduce((a, b) => a + (b > 0n ? b : 0n), 0n);
      await expect.poll(committed, { timeout: 60_000, interval: 200 }).toBe(BigInt(events.length));
      expect(calls).toBeGreaterThan(4); // failures did happen
      expect(gaps).toEqual([]);
      const decisions = await consumeAll(world.config.TOPIC_DECISIONS, events.length, 30_000);
      const ids = new Set(decisions.map((m) => (JSON.parse((m.value as Buffer).toString()) as Decision).transactionId));
      expect(ids.size).toBe(events.length);
      // Features stayed exactly-once through the re-reads: each account saw 20 events.
      const last = decisions.map((m) => JSON.parse((m.value as Buffer).toString()) as Decision).filter((d) => d.transactionId === 'rw-599');
      expect(last.map((d) => d.features.account?.count_1d)).toEqual(last.map(() => 20));
    } finally {
      await running.stop();
    }
  });

  // Batches of several partitions that arrive together are decided as one (worker.ts); a
  // failure retrying cannot fix must still stop only the partition whose events trigger it.
  it('keeps a batch that always fails to its own partition: the others are decided meanwhile', async () => {
    const world = testWorld({ BATCH_MAX_SIZE: '20' });
    await world.setup();
    const T = new Date(Date.now() - 3_600_000).toISOString();
    const poison = tx({ transactionId: 'poison', accountId: 'p0-poison', timestamp: at(T, 0) });
    const rest = [0, 1, 2].flatMap((p) => Array.from({ length: 100 }, (_, i) => ({ partition: p, event: tx({ transactionId: `p${p}-${i}`, accountId: `p${p}-a${i % 10}`, timestamp: at(T, 1000 + i * 1000) }) })));
    // The poison first in partition 0, so everything behind it there waits for it.
    await produce(world.config.TOPIC_TRANSACTIONS, [{ partition: 0, event: poison }, ...rest].map(({ partition, event }) => ({ key: event.accountId, value: JSON.stringify(event), partition })));
    let healed = false;
    let poisoned = 0;
    const failing = (inner: FeatureStore): FeatureStore =>
      delegating(inner, {
        observe: (batches) => {
          if (!healed && batches.some((b) => b.events.some((e) => e.transactionId === 'poison'))) {
            poisoned++;
            return Promise.reject(new Error('a bug the poison event triggers'));
          }
          return inner.observe(batches);
        },
      });
    const running = await world.start({ wrapStore: failing });
    try {
      const decided = async (): Promise<Set<string>> => new Set((await readAll(world.config.TOPIC_DECISIONS, 5_000)).map((m) => (JSON.parse((m.value as Buffer).toString()) as Decision).transactionId));
      const others = rest.filter((r) => r.partition !== 0).map((r) => r.event.transactionId);
      await expect.poll(async () => { const ids = await decided(); return others.filter((id) => !ids.has(id)).length; }, { timeout: 60_000, interval: 1000 }).toBe(0);
      expect(poisoned).toBeGreaterThan(1); // it kept failing meanwhile
      expect((await decided()).has('poison')).toBe(false);
      healed = true;
      const all = [poison.transactionId, ...rest.map((r) => r.event.transactionId)];
      await expect.poll(async () => { const ids = await decided(); return all.filter((id) => !ids.has(id)).length; }, { timeout: 60_000, interval: 1000 }).toBe(0);
    } finally {
      await running.stop();
    }
  });
});
