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

/** Labels handed out in the order they became known, up to a time. */
export interface LabelSource {
  /** The labels known by `timeMs` not handed out yet (ties in their order). */
  upTo(timeMs: number): LabelLine[] | Promise<LabelLine[]>;
}

/** Labels held in memory, sorted here by when they became known (ties in their order). */
export class LabelCursor implements LabelSource {
  private readonly sorted: LabelLine[];
  private next = 0;

  constructor(labels: readonly LabelLine[]) {
    this.sorted = [...labels].sort((a, b) => a.knownAtMs - b.knownAtMs);
  }

  upTo(timeMs: number): LabelLine[] {
    const from = this.next;
    while (this.next < this.sorted.length && (this.sorted[this.next] as LabelLine).knownAtMs <= timeMs) this.next++;
    return this.sorted.slice(from, this.next);
  }
}

/**
 * Labels read as they are needed from a source already in the order they became known (a
 * file in time order, or one sorted on disk). At the first label earlier than the one
 * before it, `outOfOrder` is set and nothing more is handed out.
 */
export class LabelStream implements LabelSource {
  outOfOrder = false;
  /** Labels read so far. */
  read = 0;
  private head: LabelLine | undefined;
  private lastMs = -Infinity;

  constructor(private readonly labels: AsyncIterator<LabelLine>) {}

  async upTo(timeMs: number): Promise<LabelLine[]> {
    const due: LabelLine[] = [];
    for (;;) {
      if (this.head === undefined && !(await this.pull())) return due;
      const head = this.head as LabelLine;
      if (head.knownAtMs > timeMs) return due;
      due.push(head);
      this.head = undefined;
    }
  }

  /** Reads the rest (to count them, and report their bad lines); none is handed out. */
  async drain(): Promise<void> {
    this.head = undefined;
    while (await this.pull()) this.head = undefined;
  }

  /** Stops reading (closes the file under a generator). */
  async close(): Promise<void> {
    await this.labels.return?.();
  }

  private async pull(): Promise<boolean> {
    if (this.outOfOrder) return false;
    const next = await this.labels.next();
    if (next.done === true) return false;
    this.read++;
    if (next.value.knownAtMs < this.lastMs) {
      this.outOfOrder = true;
      return false;
    }
    this.lastMs = next.value.knownAtMs;
    this.head = next.value;
    return true;
  }
}

/**
 * Calls `stageLabels` and `decideChunk` in time order. `transactions` (held or streamed) must
 * be in event-time order; labels held in memory are sorted here (ties in their order), a
 * LabelSource hands them out in that order itself. Before each chunk, the
 * labels known by its last transaction's time that were not staged yet are staged.
 */
export async function replayInTimeOrder(
  transactions: Iterable<TransactionLine> | AsyncIterable<TransactionLine>,
  labels: readonly LabelLine[] | LabelSource,
  chunkSize: number,
  stageLabels: (labels: LabelEvent[]) => void,
  decideChunk: (chunk: TransactionLine[]) => Promise<void>,
): Promise<void> {
  const pending = Array.isArray(labels) ? new LabelCursor(labels as readonly LabelLine[]) : (labels as LabelSource);
  let chunk: TransactionLine[] = [];
  const decide = async (): Promise<void> => {
    const due = await pending.upTo((chunk[chunk.length - 1] as TransactionLine).tx.eventTimeMs);
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
export async function replayDecisions(deps: PipelineDeps, transactions: Iterable<TransactionLine> | AsyncIterable<TransactionLine>, labels: readonly LabelLine[] | LabelSource, onDecided: (decided: Decided, line: TransactionLine) => void): Promise<void> {
  const labelled = withStagedLabels(deps);
  await replayInTimeOrder(transactions, labels, CHUNK, labelled.stage, async (chunk) => {
    const outcome = await processBatch(chunk, (l) => l.tx, labelled.deps);
    for (const d of outcome.decided) onDecided(d, chunk[d.index] as TransactionLine);
  });
}
