// A rebuild applies partitions in step by event time: a merchant shared by two partitions gets
// every event, even when one partition is read to its end before the other begins.
import { describe, expect, it } from 'vitest';
import { toParsedTransaction } from '../../src/contract/transaction.js';
import { WallClock } from '../../src/features/clock.js';
import { DEFAULT_FEATURE_SET } from '../../src/features/definitions.js';
import { computeFeatures } from '../../src/features/engine.js';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import { HistoryApplier } from '../../src/pipeline/rebuild.js';
import { at, EVENT_LIMITS, tx } from '../helpers/events.js';

const T = '2026-03-02T10:00:00.000Z';
// Two partitions, each an hour of one payment a minute at the same merchant.
const partition = (p: number) => Array.from({ length: 60 }, (_, i) => tx({ transactionId: `p${p}-${i}`, accountId: `a${p}`, merchantId: 'shared', timestamp: at(T, i * 60_000 + p * 1000) }));
const values = (events: ReturnType<typeof partition>) => events.map((e) => Buffer.from(JSON.stringify(e)));

async function merchantCountAfter(store: MemoryFeatureStore): Promise<number | undefined> {
  const probe = toParsedTransaction(tx({ transactionId: 'probe', accountId: 'probe', merchantId: 'shared', timestamp: at(T, 3_600_000) }));
  return (await computeFeatures([probe], DEFAULT_FEATURE_SET, store)).named(0).merchant?.count_1d;
}

describe('HistoryApplier', () => {
  it('applies one partition read to its end before the other in event-time order, losing nothing to lateness', async () => {
    const store = new MemoryFeatureStore({ allowedLatenessMs: 900_000 });
    const applier = new HistoryApplier(DEFAULT_FEATURE_SET, store, new WallClock(300_000, () => Date.parse(T) + 7_200_000), { eventLimits: EVENT_LIMITS, chunk: 25, partitions: { transactions: [0, 1], labels: [] } });
    await applier.add('transactions', 0, values(partition(0)));
    expect(applier.counts.transactions).toBe(0); // partition 1 may still bring earlier events
    expect(applier.queued('transactions', 0)).toBe(60);
    await applier.close('transactions', 0);
    await applier.add('transactions', 1, [...values(partition(1)), Buffer.from('not json')]);
    await applier.close('transactions', 1);
    expect(applier.counts).toEqual({ transactions: 120, labels: 0, skipped: 1 });
    expect(await merchantCountAfter(store)).toBe(121);
  });

  it('the same reading order without the alignment loses the second partition to lateness (what it prevents)', async () => {
    const store = new MemoryFeatureStore({ allowedLatenessMs: 900_000 });
    for (const p of [0, 1]) await computeFeatures(partition(p).map(toParsedTransaction), DEFAULT_FEATURE_SET, store);
    expect(await merchantCountAfter(store)).toBeLessThan(121);
  });
});
