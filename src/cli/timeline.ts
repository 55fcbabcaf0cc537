// History replayed in time order for the offline commands: transactions in chunks, and
// before each transaction every label known by its time, so label-fed features are as they
// were then (the same order the worker sees when both topics are live).
import type { LabelEvent } from '../contract/label.js';
import type { LabelLine, TransactionLine } from './files.js';

/**
 * Calls `applyLabels` and `decideChunk` in time order. `transactions` must be in event-time
 * order; labels are sorted here. A chunk ends before the first transaction that a pending
 * label precedes (a label known at a transaction's very time counts for it).
 */
export async function replayInTimeOrder(
  transactions: readonly TransactionLine[],
  labels: readonly LabelLine[],
  chunkSize: number,
  applyLabels: (labels: LabelEvent[]) => Promise<void>,
  decideChunk: (chunk: TransactionLine[]) => Promise<void>,
): Promise<void> {
  const pending = [...labels].sort((a, b) => a.knownAtMs - b.knownAtMs);
  let next = 0;
  let i = 0;
  while (i < transactions.length) {
    const first = transactions[i] as TransactionLine;
    const due: LabelEvent[] = [];
    while (next < pending.length && (pending[next] as LabelLine).knownAtMs <= first.tx.eventTimeMs) due.push(pending[next++] as LabelLine);
    if (due.length > 0) await applyLabels(due);
    const nextLabelAt = next < pending.length ? (pending[next] as LabelLine).knownAtMs : Infinity;
    let end = i + 1;
    while (end < transactions.length && end - i < chunkSize && (transactions[end] as TransactionLine).tx.eventTimeMs < nextLabelAt) end++;
    await decideChunk(transactions.slice(i, end));
    i = end;
  }
}
