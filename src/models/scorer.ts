// The scorer port: one call per batch, a fraud probability per row of the feature matrix.

export interface Scorer {
  readonly version: string;
  /** Scores `rows` rows of `width` features each; returns one probability in 0..1 per row. */
  score(matrix: Float32Array, rows: number, width: number): Promise<Float32Array>;
  close(): Promise<void>;
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
