// The scorer port: one call per batch, a fraud probability per row of the feature matrix.
import type { FeatureContribution } from '../contract/decision.js';

/** Explains a model's score for one row: the features that pushed it towards fraud the most. */
export interface Explainer {
  top(matrix: Float32Array, row: number, k: number): FeatureContribution[];
}

export interface Scorer {
  readonly version: string;
  /** Scores `rows` rows of `width` features each; returns one probability in 0..1 per row. */
  score(matrix: Float32Array, rows: number, width: number): Promise<Float32Array>;
  close(): Promise<void>;
  /** Per-feature explanations of this model's scores, when it has them. */
  readonly explainer?: Explainer | null;
  /** A model that can be swapped (model-slot.ts) lends the one in place for a whole batch. */
  lease?(): ScorerLease;
}

export interface ScorerLease {
  scorer: Scorer;
  release(): void;
}

/** The scorer to use for one batch, from start to end, whatever a swap does meanwhile. */
export function leaseOf(scorer: Scorer): ScorerLease {
  return scorer.lease?.() ?? { scorer, release: () => undefined };
}

/** Used when no model is configured: every score is 0, so only rules decide. */
export class NoModelScorer implements Scorer {
  readonly version = 'none';

  score(_matrix: Float32Array, rows: number): Promise<Float32Array> {
    return Promise.resolve(new Float32Array(rows));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
