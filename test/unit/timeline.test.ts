// Offline replays apply each label before the first transaction at or after the time it became known.
import { describe, expect, it } from 'vitest';
import { toParsedTransaction } from '../../src/contract/transaction.js';
import type { LabelLine, TransactionLine } from '../../src/offline/input-lines.js';
import { replayInTimeOrder } from '../../src/offline/timeline.js';
import { tx } from '../helpers/events.js';

describe('replay in time order', () => {
  it('interleaves labels and transaction chunks by time', async () => {
    const txs: TransactionLine[] = [1, 2, 3, 5, 8, 9].map((t, i) => ({ lineNo: i + 1, tx: toParsedTransaction(tx({ transactionId: `t${t}`, timestamp: t * 1000 })) }));
    const labels: LabelLine[] = [10, 4, 0, 3].map((t) => ({ transactionId: `l${t}`, accountId: 'a', fraud: true, knownAtMs: t * 1000 }));
    const calls: string[] = [];
    await replayInTimeOrder(txs, labels, 2, (due) => Promise.resolve(void calls.push(`labels ${due.map((l) => l.transactionId).join(' ')}`)), (chunk) => Promise.resolve(void calls.push(`txs ${chunk.map((l) => l.tx.event.transactionId).join(' ')}`)));
    expect(calls).toEqual(['labels l0', 'txs t1 t2', 'labels l3', 'txs t3', 'labels l4', 'txs t5 t8', 'txs t9']);
  });
});
