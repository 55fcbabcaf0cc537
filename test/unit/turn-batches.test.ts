// The batches of a turn, decided as one: each message keeps its own partition's journal and
// offset, and each batch gets back exactly its own decisions and rejections.
import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../../src/contract/errors.js';
import { JournalRecord } from '../../src/features/journal.js';
import type { Batch, PartitionLease } from '../../src/kafka/partition-consumer.js';
import { groupsUpTo, splitOutcome, together, type ClaimedBatch } from '../../src/kafka/turn-batches.js';
import type { BatchOutcome, Decided } from '../../src/pipeline/process-batch.js';

function claimed(partition: number, offsets: number[], k: number, recorded?: JournalRecord): ClaimedBatch {
  const batch = { topic: 'tx', partition, messages: offsets.map((o) => ({ offset: String(o), value: Buffer.from(`${partition}:${o}`) })) } as unknown as Batch;
  const lease = { key: `tx\u0000${partition}`, topic: 'tx', partition, generation: 1, owned: () => true, held: () => true } satisfies PartitionLease;
  return { batch, lease, claim: { target: { id: `g/tx/${partition}`, epoch: partition + 1 }, recorded }, k };
}

const decided = (index: number): Decided => ({ index }) as Decided;

describe('a turn of batches', () => {
  it('lines the messages up, each with its own partition journal, offset and claimed record', () => {
    const record = JournalRecord.decode([]);
    const a = claimed(0, [10, 11, 12], 0, record);
    const b = claimed(3, [5, 6], 1);
    const { messages, starts, journal } = together([a, b]);
    expect(messages.map((m) => m.value?.toString())).toEqual(['0:10', '0:11', '0:12', '3:5', '3:6']);
    expect(starts).toEqual([0, 3]);
    expect([0, 1, 2, 3, 4].map((i) => journal.targetOf(i).id)).toEqual(['g/tx/0', 'g/tx/0', 'g/tx/0', 'g/tx/3', 'g/tx/3']);
    expect([0, 1, 2, 3, 4].map((i) => journal.targetOf(i).epoch)).toEqual([1, 1, 1, 4, 4]);
    expect([0, 1, 2, 3, 4].map((i) => journal.offsetOf(i))).toEqual([10, 11, 12, 5, 6]);
    expect([0, 1, 2, 3, 4].map((i) => journal.recordedOf(i))).toEqual([record, record, record, undefined, undefined]);
  });

  it('gives each batch its own decisions and rejections, indexed into its own messages', () => {
    const error = new InvalidEventError('FD_EVENT_SCHEMA', 'bad');
    const outcome = { decided: [0, 2, 3, 4, 7].map(decided), rejected: [{ index: 1, error }, { index: 6, error }], timings: { features: 0, score: 0, rules: 0 } } as BatchOutcome;
    const parts = splitOutcome(outcome, [0, 3, 5]);
    expect(parts.map((p) => p.decided.map((d) => d.index))).toEqual([[0, 2], [0, 1], [2]]);
    expect(parts.map((p) => p.rejected.map((r) => r.index))).toEqual([[1], [], [1]]);
    // The outcome's own decisions, not copies (a copy per event was garbage at moderate rates).
    expect(parts[1]?.decided[0]).toBe(outcome.decided[2]);
    // One batch: its outcome as it is.
    expect(splitOutcome(outcome, [0])[0]?.decided).toBe(outcome.decided);
  });

  it('groups small batches up to the bound, in order; a larger batch goes alone', () => {
    const sizes = [3, 2, 400, 200, 600, 1, 1];
    const items = sizes.map((n, k) => claimed(k, Array.from({ length: n }, (_, i) => i), k));
    const groups = groupsUpTo(items, 512);
    expect(groups.map((g) => g.map((m) => m.k))).toEqual([[0, 1, 2], [3], [4], [5, 6]]);
    expect(groupsUpTo(items.slice(0, 2), 512)).toHaveLength(1);
  });
});
