// History replayed in time order for the offline commands: transactions in chunks, and
// before each transaction every label known by its time, so label-fed features are as they
// were then (the same order the worker sees when both topics are live).
import type { LabelEvent } from '../contract/label.js';
import { processBatch, type Decided, type PipelineDeps } from '../pipeline/process-batch.js';
import { processLabels } from '../pipeline/process-labels.js';
import type { LabelLine, TransactionLine } from './input-lines.js';

/** Transactions decided per pipeline call, as a worker's batch. */
const CHUNK = 1000;

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

/** Labels already validated when their file was read, applied through the worker's own call. */
export async function applyLabelLines(labels: readonly LabelLine[], deps: Pick<PipelineDeps, 'features' | 'store'>): Promise<void> {
  await processLabels(labels, (label) => label, deps);
}

/**
 * History through the detector offline: `deps` over a fresh in-memory store, transactions (in
 * event-time order) decided in chunks, with the labels known by each one's time applied first,
 * through the same pipeline calls as the worker's.
 */
export async function replayDecisions(deps: PipelineDeps, transactions: readonly TransactionLine[], labels: readonly LabelLine[], onDecided: (decided: Decided, line: TransactionLine) => void): Promise<void> {
  await replayInTimeOrder(transactions, labels, CHUNK, (due) => applyLabelLines(due, deps), async (chunk) => {
    const outcome = await processBatch(chunk, (l) => l.tx, deps);
    for (const d of outcome.decided) onDecided(d, chunk[d.index] as TransactionLine);
  });
}
