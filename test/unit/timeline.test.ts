// Offline replays: chunks of transactions in time order, each after staging the labels known
// by its last transaction; and, through the whole path, each transaction counting exactly the
// labels known at its own time, wherever the chunks end.
import { describe, expect, it } from 'vitest';
import type { LabelEvent } from '../../src/contract/label.js';
import { toParsedTransaction } from '../../src/contract/transaction.js';
import { buildFeatureSet } from '../../src/features/definitions.js';
import { computeFeatures } from '../../src/features/engine.js';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import type { LabelLine, TransactionLine } from '../../src/offline/input-lines.js';
import { LabelStream, replayInTimeOrder, withStagedLabels } from '../../src/offline/timeline.js';
import { tx } from '../helpers/events.js';

const set = buildFeatureSet([
  { entity: 'account', aggregation: 'count', window: '1d' },
  { entity: 'merchant', aggregation: 'labelled_count', window: '7d' },
  { entity: 'merchant', aggregation: 'fraud_count', window: '7d' },
  { entity: 'account', aggregation: 'fraud_count', window: '30d' },
]);
const S = 1000;
const T = Date.parse('2026-06-01T00:00:00Z');
const line = (t: number, i: number, merchantId = 'm1'): TransactionLine => ({ lineNo: i + 1, tx: toParsedTransaction(tx({ transactionId: `t${t}`, accountId: 'a', merchantId, timestamp: T + t * S })) });
const label = (t: number, fraud = true, merchantId = 'm1'): LabelLine => ({ transactionId: `l${t}-${merchantId}-${fraud}`, accountId: 'a', merchantId, fraud, knownAtMs: T + t * S });

describe('replay in time order', () => {
  it('stages, before each chunk, the labels known by its last transaction that were not staged yet', async () => {
    const txs = [1, 2, 3, 5, 8, 9].map((t, i) => line(t, i));
    const labels = [10, 4, 0, 3, 5].map((t) => label(t));
    const calls: string[] = [];
    const ids = (due: LabelEvent[]): string => due.map((l) => l.transactionId).join(' ');
    await replayInTimeOrder(txs, labels, 2, (due) => void calls.push(`labels ${ids(due)}`), (chunk) => Promise.resolve(void calls.push(`txs ${chunk.map((l) => l.tx.event.transactionId).join(' ')}`)));
    expect(calls).toEqual(['labels l0-m1-true', 'txs t1 t2', 'labels l3-m1-true l4-m1-true l5-m1-true', 'txs t3 t5', 'txs t8 t9']);
  });

  it('has each transaction count the labels known at its own time, ties included, whatever the chunk size', async () => {
    // Labels at, between and after the transactions' times, for two merchants; one legit.
    const txs = [1, 2, 3, 3, 5, 8, 9, 12].map((t, i) => line(t, i, i % 3 === 0 ? 'm2' : 'm1'));
    const labels = [label(0), label(3), label(3, false), label(4, true, 'm2'), label(8), label(8, true, 'm2'), label(11), label(20)];
    const expected = txs.map((l) => {
      const known = labels.filter((x) => x.knownAtMs <= l.tx.eventTimeMs);
      const mine = known.filter((x) => x.merchantId === l.tx.event.merchantId);
      return { labelled: mine.length, fraud: mine.filter((x) => x.fraud).length, account: known.filter((x) => x.fraud).length };
    });
    // The oracle itself, by hand: a label known at a transaction's very time counts (t3, t8).
    expect(expected.map((e) => e.labelled)).toEqual([0, 1, 3, 0, 3, 4, 2, 5]);
    for (const chunkSize of [1, 3, 100]) {
      const labelled = withStagedLabels({ features: set, store: new MemoryFeatureStore({ allowedLatenessMs: 900_000 }) });
      const seen: { labelled: number; fraud: number; account: number }[] = [];
      await replayInTimeOrder(txs, labels, chunkSize, labelled.stage, async (chunk) => {
        const f = await computeFeatures(chunk.map((l) => l.tx), set, labelled.deps.store);
        chunk.forEach((_, row) => {
          const n = f.named(row);
          seen.push({ labelled: n.merchant?.labelled_count_7d as number, fraud: n.merchant?.fraud_count_7d as number, account: n.account?.fraud_count_30d as number });
        });
      });
      expect({ chunkSize, seen }).toEqual({ chunkSize, seen: expected });
    }
  });

  it('hands out streamed labels as a held, sorted list would, and stops at the first out of time order', async () => {
    const from = (labels: LabelLine[]): AsyncIterator<LabelLine> => {
      let i = 0;
      return { next: () => Promise.resolve(i < labels.length ? { done: false, value: labels[i++] as LabelLine } : { done: true, value: undefined }) };
    };
    const ordered = [0, 3, 3, 4, 9, 20].map((t, i) => label(t, i % 2 === 0));
    const stream = new LabelStream(from(ordered));
    const ids = async (t: number): Promise<string[]> => (await stream.upTo(T + t * S)).map((l) => l.transactionId);
    expect(await ids(2)).toEqual([ordered[0]?.transactionId]);
    expect(await ids(3)).toEqual([ordered[1]?.transactionId, ordered[2]?.transactionId]);
    expect(await ids(3)).toEqual([]);
    expect(await ids(10)).toEqual([ordered[3]?.transactionId, ordered[4]?.transactionId]);
    await stream.drain();
    expect({ read: stream.read, outOfOrder: stream.outOfOrder }).toEqual({ read: 6, outOfOrder: false });

    const late = new LabelStream(from([label(1), label(30), label(2)]));
    expect((await late.upTo(T + 10 * S)).length).toBe(1);
    await late.drain();
    expect(late.outOfOrder).toBe(true);
  });
});
