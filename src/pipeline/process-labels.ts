// Labels through the detector: validated like transactions, and the valid ones applied to
// the label-fed features in one store call. The worker (a batch of `fraud-labels`) and the
// offline commands (the labels known by a transaction's time) both apply labels through it.
import type { LabelEvent } from '../contract/label.js';
import { applyLabels } from '../features/engine.js';
import type { PipelineDeps } from './process-batch.js';
import { validateEach, type Rejected } from './validate.js';

export interface LabelsOutcome {
  applied: number;
  rejected: Rejected[];
}

export async function processLabels<T>(inputs: readonly T[], parse: (input: T) => LabelEvent, deps: Pick<PipelineDeps, 'features' | 'store'>): Promise<LabelsOutcome> {
  const { valid, rejected } = validateEach(inputs, parse);
  await applyLabels(
    valid.map((v) => v.value),
    deps.features,
    deps.store,
  );
  return { applied: valid.length, rejected };
}
