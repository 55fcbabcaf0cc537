// Bounded clock skew: an event dated far ahead is decided on its entities' windows as of the
// bound and moves none of them, so the entity's next normal events still count.
import { describe, expect, it } from 'vitest';
import { toParsedTransaction } from '../../src/contract/transaction.js';
import { WallClock } from '../../src/features/clock.js';
import { DEFAULT_FEATURE_SET } from '../../src/features/definitions.js';
import { computeFeatures } from '../../src/features/engine.js';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import { at, tx } from '../helpers/events.js';

const T = '2026-03-02T10:00:00.000Z';
const NOW = Date.parse(T) + 600_000;
const SKEW = 300_000;
const card = (i: number, timestamp: string) => toParsedTransaction(tx({ transactionId: `c-${i}`, accountId: 'a', cardId: 'c', merchantId: 'm', amount: 10, timestamp }));

/** Three normal payments, one dated 2100, three more normal ones; each decided in its own batch. */
async function cardCounts(clock: WallClock | undefined): Promise<{ counts: number[]; future: number[]; since: number[] }> {
  const store = new MemoryFeatureStore({ allowedLatenessMs: 900_000 });
  const events = [card(0, T), card(1, at(T, 60_000)), card(2, at(T, 120_000)), card(3, '2100-01-01T00:00:00Z'), card(4, at(T, 180_000)), card(5, at(T, 240_000)), card(6, at(T, 300_000))];
  const counts: number[] = [];
  const future: number[] = [];
  const since: number[] = [];
  for (const e of events) {
    const f = await computeFeatures([e], DEFAULT_FEATURE_SET, store, undefined, clock);
    counts.push(f.named(0).card?.count_1h ?? NaN);
    since.push(f.named(0).account?.seconds_since_last ?? NaN);
    future.push(f.future[0] as number);
  }
  return { counts, future, since };
}

describe('bounded clock skew', () => {
  it('a far-future event is decided as of the bound and leaves the next events counting', async () => {
    const { counts, future, since } = await cardCounts(new WallClock(SKEW, () => NOW));
    expect(future).toEqual([0, 0, 0, 1, 0, 0, 0]);
    // The future one sees the three before it (not itself: it is not applied), the next ones count on.
    expect(counts).toEqual([1, 2, 3, 3, 4, 5, 6]);
    // Its seconds since the last event are measured from the bound, not from 2100.
    expect(since[3]).toBe((NOW + SKEW - Date.parse(at(T, 120_000))) / 1000);
    expect(since[4]).toBe(60);
  });

  it('without a bound the same stream blinds the card (what the bound prevents)', async () => {
    const { counts, future } = await cardCounts(undefined);
    expect(future.every((f) => f === 0)).toBe(true);
    expect(counts.slice(4)).toEqual([4, 4, 4]);
  });

  it('an event within the skew is applied as usual', async () => {
    const store = new MemoryFeatureStore({ allowedLatenessMs: 900_000 });
    const clock = new WallClock(SKEW, () => NOW);
    const f = await computeFeatures([card(0, new Date(NOW + SKEW - 1).toISOString()), card(1, new Date(NOW + SKEW).toISOString())], DEFAULT_FEATURE_SET, store, undefined, clock);
    expect(Array.from(f.future)).toEqual([0, 0]);
    expect(f.named(1).card?.count_1h).toBe(2);
  });

  it('history with quiet spells longer than the skew is applied throughout (each event is now at its own time)', async () => {
    const store = new MemoryFeatureStore({ allowedLatenessMs: 900_000 });
    const clock = new WallClock(SKEW, () => NOW + 86_400_000);
    const minutes = [0, 1, 10, 11, 60, 61];
    const counts: number[] = [];
    for (const [i, m] of minutes.entries()) {
      const f = await computeFeatures([card(i, at(T, m * 60_000))], DEFAULT_FEATURE_SET, store, undefined, clock);
      expect(f.future[0]).toBe(0);
      counts.push(f.named(0).account?.count_1d ?? NaN);
    }
    expect(counts).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
