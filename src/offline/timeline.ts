// History replayed in time order for the offline commands: transactions in chunks, each chunk
// one store call and one model run, with every label known by a transaction's time applied
// before that transaction reads its label windows (label-interleaving-store.ts), so label-fed
// features are as they were then (the same order the worker sees when both topics are live).
import type { LabelEvent } from '../contract/label.js';
import { labelBatches } from '../features/engine.js';
import { processBatch, type Decided, type PipelineDeps } from '../pipeline/process-batch.js';
import type { LabelLine, TransactionLine } from './input-lines.js';
import { LabelInterleavingStore } from './label-interleaving-store.js';

/** Transactions decided per pipeline call, as a worker's batch. */
export const CHUNK = 1000;

/** Labels in the order they became known (ties in file order), handed out up to a time. */
export class LabelCursor {
  private readonly sorted: LabelLine[];
  private next = 0;

  constructor(labels: readonly LabelLine[]) {
    this.sorted = [...labels].sort((a, b) => a.knownAtMs - b.knownAtMs);
  }

  /** The labels known by `timeMs` not handed out yet. */
  upTo(timeMs: number): LabelLine[] {
    const from = this.next;
    while (this.next < this.sorted.length && (this.sorted[this.next] as LabelLine).knownAtMs <= timeMs) this.next++;
    return this.sorted.slice(from, this.next);
  }
}

/**
 * Calls `stageLabels` and `decideChunk` in time order. `transactions` (held or streamed) must
 * be in event-time order; labels are sorted here (ties in their order). Before each chunk, the
 * labels known by its last transaction's time that were not staged yet are staged.
 */
export async function replayInTimeOrder(
  transactions: Iterable<TransactionLine> | AsyncIterable<TransactionLine>,
  labels: readonly LabelLine[],
  chunkSize: number,
  stageLabels: (labels: LabelEvent[]) => void,
  decideChunk: (chunk: TransactionLine[]) => Promise<void>,
): Promise<void> {
  const pending = new LabelCursor(labels);
  let chunk: TransactionLine[] = [];
  const decide = async (): Promise<void> => {
    const due = pending.upTo((chunk[chunk.length - 1] as TransactionLine).tx.eventTimeMs);
    if (due.length > 0) stageLabels(due);
    const taken = chunk;
    chunk = [];
    await decideChunk(taken);
  };
  for await (const line of transactions) {
    chunk.push(line);
    if (chunk.length === chunkSize) await decide();
  }
  if (chunk.length > 0) await decide();
}

/** The features' store, with labels staged into its next call at their times (label-interleaving-store.ts). */
export function withStagedLabels<D extends Pick<PipelineDeps, 'features' | 'store'>>(deps: D): { deps: D; stage: (labels: readonly LabelEvent[]) => void } {
  const store = new LabelInterleavingStore(deps.store);
  return { deps: { ...deps, store }, stage: (labels) => store.stage(labelBatches(labels, deps.features)) };
}

/**
 * History through the detector offline: `deps` over a fresh in-memory store, transactions (in
 * event-time order) decided in chunks through the same pipeline call as the worker's, each
 * seeing the labels known by its time.
 */
export async function replayDecisions(deps: PipelineDeps, transactions: Iterable<TransactionLine> | AsyncIterable<TransactionLine>, labels: readonly LabelLine[], onDecided: (decided: Decided, line: TransactionLine) => void): Promise<void> {
  const labelled = withStagedLabels(deps);
  await replayInTimeOrder(transactions, labels, CHUNK, labelled.stage, async (chunk) => {
    const outcome = await processBatch(chunk, (l) => l.tx, labelled.deps);
    for (const d of outcome.decided) onDecided(d, chunk[d.index] as TransactionLine);
  });
}
