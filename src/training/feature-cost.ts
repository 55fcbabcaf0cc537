// What a feature set costs per event: the feature engine over a stretch of history, in
// event-time order with its labels, on the in-memory store (one thread, no Redis), as CPU
// time. `train --search` records it for the selected set so precision can be traded for speed.
import { computeFeatures } from '../features/engine.js';
import type { LabelLine, TransactionLine } from '../offline/input-lines.js';
import { CHUNK, replayInTimeOrder, withStagedLabels } from '../offline/timeline.js';
import type { PipelineDeps } from '../pipeline/process-batch.js';

export interface FeatureCost {
  /** The feature set's features (the event's own included). */
  features: number;
  events: number;
  /** CPU time (user + system) of the process per event, in microseconds. */
  microsPerEvent: number;
}

/**
 * Times the feature engine over the first `events` transactions (in event-time order) and the
 * labels known by then. `deps`: the set, a fresh in-memory store and the clock bound.
 */
export async function measureFeatureCost(deps: Pick<PipelineDeps, 'features' | 'store' | 'clock'>, history: { transactions: readonly TransactionLine[]; labels: readonly LabelLine[] }, events: number): Promise<FeatureCost> {
  const sample = history.transactions.slice(0, events);
  const lastMs = sample.at(-1)?.tx.eventTimeMs ?? 0;
  const labels = history.labels.filter((l) => l.knownAtMs <= lastMs);
  const labelled = withStagedLabels(deps);
  const { features: set, store, clock } = labelled.deps;
  const before = process.cpuUsage();
  await replayInTimeOrder(sample, labels, CHUNK, labelled.stage, async (chunk) => {
    await computeFeatures(chunk.map((l) => l.tx), set, store, undefined, clock);
  });
  const used = process.cpuUsage(before);
  const micros = sample.length > 0 ? (used.user + used.system) / sample.length : 0;
  return { features: set.names.length, events: sample.length, microsPerEvent: Math.round(micros * 10) / 10 };
}
