// History replayed in time order for the offline commands: transactions in chunks, and
// before each transaction every label known by its time, so label-fed features are as they
// were then (the same order the worker sees when both topics are live).
import type { Config } from '../config.js';
import type { LabelEvent } from '../contract/label.js';
import type { FeatureSet } from '../features/definitions.js';
import { StreamClock } from '../features/clock.js';
import { applyLabels } from '../features/engine.js';
import { processBatch, type Decided } from '../pipeline/process-batch.js';
import type { RuleSet } from '../rules/rule-set.js';
import { buildPipeline, memoryStore, type Models } from './build.js';
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

export interface OfflinePipeline {
  config: Config;
  features: FeatureSet;
  models?: Models;
  /** Rules other than RULES_DIR's (a backtest's, with breakers off). */
  rules?: RuleSet;
  /** 'all' builds every decision in full; 'alerts' only those that are not allows. */
  decisions: 'all' | 'alerts';
}

/**
 * History through the detector offline: an in-memory store, the pipeline, transactions (in
 * event-time order) decided in chunks with the labels known by each one's time applied first.
 */
export async function replayDecisions(setup: OfflinePipeline, transactions: readonly TransactionLine[], labels: readonly LabelLine[], onDecided: (decided: Decided, line: TransactionLine) => void): Promise<void> {
  const store = memoryStore(setup.config);
  const pipeline = buildPipeline(setup.config, store, setup.decisions, setup.features, setup.models);
  if (setup.rules) pipeline.setRules(setup.rules);
  // History's clock is its own event time, so it replays the same way whenever it is replayed.
  pipeline.deps.clock = new StreamClock(setup.config.MAX_FUTURE_SKEW_MS);
  await replayInTimeOrder(transactions, labels, 1000, (due) => applyLabels(due, setup.features, store), async (chunk) => {
    const outcome = await processBatch(chunk, (l) => l.tx, pipeline.deps);
    for (const d of outcome.decided) onDecided(d, chunk[d.index] as TransactionLine);
  });
}
