import { describe, expect, it } from 'vitest';
import { toParsedTransaction } from '../../src/contract/transaction.js';
import { DEFAULT_FEATURE_SET } from '../../src/features/definitions.js';
import { computeFeatures, NO_PREVIOUS_EVENT_SECONDS } from '../../src/features/engine.js';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import { at, tx } from '../helpers/events.js';

const T = '2026-03-02T10:00:00.000Z'; // a Monday

describe('computeFeatures', () => {
  it('derives named features and a matrix row in the feature set order, with no NaN', async () => {
    const store = new MemoryFeatureStore({ allowedLatenessMs: 3_600_000 });
    const events = [
      tx({ accountId: 'a', cardId: 'c', amount: 10, timestamp: T }),
      tx({ accountId: 'a', cardId: 'c', amount: 30, timestamp: at(T, 60_000) }),
      tx({ accountId: 'b', amount: 5, timestamp: at(T, 90_000), cardId: undefined, deviceId: undefined, merchantId: undefined }),
    ].map(toParsedTransaction);
    const f = await computeFeatures(events, DEFAULT_FEATURE_SET, store);
    const second = f.named(1);
    expect(second?.account?.count_10m).toBe(2);
    expect(second?.account?.sum_1h).toBe(40);
    expect(second?.account?.mean_30d).toBe(20);
    expect(second?.account?.amount_ratio_30d).toBe(1.5);
    expect(second?.account?.std_30d).toBe(10);
    expect(second?.account?.seconds_since_last).toBe(60);
    expect(second?.card?.count_1h).toBe(2);
    expect(second?.event).toEqual({ amount: 30, hour_of_day: 10, day_of_week: 1 });
    // Absent optional fields fall back to 0; a first event has no previous one.
    const third = f.named(2);
    expect(third?.card?.count_1h).toBe(0);
    expect(third?.merchant?.count_1h).toBe(0);
    expect(third?.account?.seconds_since_last).toBe(NO_PREVIOUS_EVENT_SECONDS);
    const width = DEFAULT_FEATURE_SET.names.length;
    expect(f.matrix.length).toBe(3 * width);
    expect(f.matrix.every((v) => Number.isFinite(v))).toBe(true);
    const col = DEFAULT_FEATURE_SET.names.indexOf('account.sum_1h');
    expect(f.matrix[width + col]).toBe(40);
  });
});
