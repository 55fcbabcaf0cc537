// The decision journal through the engine and the memory store: a redelivered event is
// decided on exactly what it observed the first time, its entities count it once, and an
// owner that another worker has replaced can write nothing.
import { describe, expect, it } from 'vitest';
import { PartitionFencedError } from '../../src/contract/errors.js';
import { toParsedTransaction, type ParsedTransaction } from '../../src/contract/transaction.js';
import { DEFAULT_FEATURE_SET } from '../../src/features/definitions.js';
import { computeFeatures, partitionJournal, type BatchFeatures } from '../../src/features/engine.js';
import { JournalChunks, JournalRecord } from '../../src/features/journal.js';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import { at, tx } from '../helpers/events.js';

const T = '2026-03-02T10:00:00.000Z';
const P = 'group/transactions/0';

function stream(n: number): ParsedTransaction[] {
  return Array.from({ length: n }, (_, i) =>
    toParsedTransaction(tx({ transactionId: `j-${i}`, accountId: `a${i % 7}`, cardId: `c${i % 5}`, merchantId: `m${i % 3}`, deviceId: `d${i % 4}`, amount: 5 + (i % 11), timestamp: at(T, i * 20_000) })),
  );
}

const rows = (f: BatchFeatures): number[][] => Array.from({ length: f.tooLate.length }, (_, r) => Array.from(f.values.subarray(r * f.width, (r + 1) * f.width)));
const offsets = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

describe('decision journal', () => {
  it('decides a redelivered batch on the same features, and counts its events once', async () => {
    const events = stream(60);
    const clean = new MemoryFeatureStore({ allowedLatenessMs: 900_000 });
    const expected = rows(await computeFeatures(events, DEFAULT_FEATURE_SET, clean));

    const store = new MemoryFeatureStore({ allowedLatenessMs: 900_000 });
    const first = await store.claim(P);
    const firstPass = await computeFeatures(events.slice(0, 40), DEFAULT_FEATURE_SET, store, partitionJournal({ id: P, epoch: first.epoch }, offsets(0, 40)));
    expect(rows(firstPass)).toEqual(expected.slice(0, 40));

    // The worker dies before committing; the next owner reads from offset 20 on.
    const second = await store.claim(P);
    expect(second.epoch).toBe(first.epoch + 1);
    expect(second.record.size).toBe(40);
    const again = await computeFeatures(events.slice(20), DEFAULT_FEATURE_SET, store, partitionJournal({ id: P, epoch: second.epoch }, offsets(20, 40), second.record));
    // Offsets 20-39 come from the journal; 40-59 are new and see the state as a clean run does.
    expect(rows(again)).toEqual(expected.slice(20));
    expect([...again.replayed]).toEqual([...Array<number>(20).fill(1), ...Array<number>(20).fill(0)]);
    expect([...again.duplicate].every((d) => d === 0)).toBe(true);
  });

  it('without the journal a redelivered event is decided on a state that already holds it', async () => {
    // The failure the journal exists for, shown: the same batch, observed twice.
    const events = stream(30);
    const store = new MemoryFeatureStore({ allowedLatenessMs: 900_000 });
    const once = rows(await computeFeatures(events, DEFAULT_FEATURE_SET, store));
    const twice = await computeFeatures(events, DEFAULT_FEATURE_SET, store);
    expect(rows(twice)).not.toEqual(once);
    expect([...twice.duplicate].every((d) => d === 1)).toBe(true);
  });

  it('refuses writes from an owner another worker has replaced, and writes nothing for them', async () => {
    const events = stream(10);
    const store = new MemoryFeatureStore({ allowedLatenessMs: 900_000 });
    const zombie = await store.claim(P);
    await store.claim(P); // another worker takes the partition over
    await expect(computeFeatures(events, DEFAULT_FEATURE_SET, store, partitionJournal({ id: P, epoch: zombie.epoch }, offsets(0, 10)))).rejects.toBeInstanceOf(PartitionFencedError);
    expect(store.size).toBe(0);
    expect((await store.claim(P)).record.size).toBe(0);
  });

  it('drops journal entries once offsets beyond them are committed', async () => {
    const events = stream(20);
    const store = new MemoryFeatureStore({ allowedLatenessMs: 900_000 });
    const { epoch } = await store.claim(P);
    const target = { id: P, epoch };
    await computeFeatures(events.slice(0, 10), DEFAULT_FEATURE_SET, store, partitionJournal(target, offsets(100, 10)));
    await computeFeatures(events.slice(10), DEFAULT_FEATURE_SET, store, partitionJournal(target, offsets(110, 10)));
    await store.release(P, 110);
    const { record } = await store.claim(P);
    expect(record.size).toBe(10);
    expect(record.maxOffset).toBe(119);
  });

  it('reads entries back in write order: a later row for the same event and entity wins', () => {
    const a = new JournalChunks();
    const b = new JournalChunks();
    const target = { id: P, epoch: 1 };
    a.add(target, 7, 42, 9, 1000, 0, new Float64Array([1, 2, 3]), 0, 3);
    b.add(target, 7, 42, 9, 2000, 0, new Float64Array([4, 5, 6]), 0, 3);
    const record = JournalRecord.decode([a.entries()[0]?.rows as Buffer, b.entries()[0]?.rows as Buffer]);
    expect([...(record.rowsAt(7, 42)?.get(9)?.aggregates ?? [])]).toEqual([4, 5, 6]);
    expect(record.rowsAt(7, 43)).toBeUndefined(); // another transaction at that offset: not this one's rows
  });
});
