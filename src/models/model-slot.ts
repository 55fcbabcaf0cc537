// Hot swap: the pipeline scores through a slot, and a new model takes the slot between two
// batches. A batch holds a lease on the model it started with (its scores and explanations
// come from one model); the old model is released once its last lease has returned.
import type { Scorer, ScorerLease } from './scorer.js';

export class ModelSlot<M extends Scorer = Scorer> implements Scorer {
  private readonly leases = new Map<M, number>();
  private readonly retired = new Set<M>();

  constructor(private current: M) {}

  get version(): string {
    return this.current.version;
  }

  get model(): M {
    return this.current;
  }

  get explainer(): Scorer['explainer'] {
    return this.current.explainer;
  }

  lease(): ScorerLease {
    const model = this.current;
    this.leases.set(model, (this.leases.get(model) ?? 0) + 1);
    let released = false;
    return {
      scorer: model,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.leases.get(model) ?? 1) - 1;
        if (left > 0) this.leases.set(model, left);
        else this.leases.delete(model);
        if (left === 0 && this.retired.delete(model)) void model.close();
      },
    };
  }

  async score(matrix: Float32Array, rows: number, width: number): Promise<Float32Array> {
    const lease = this.lease();
    try {
      return await lease.scorer.score(matrix, rows, width);
    } finally {
      lease.release();
    }
  }

  /** Puts `next` in the slot; the model it replaces is closed once its leases have returned. */
  swap(next: M): M {
    const previous = this.current;
    this.current = next;
    if (previous !== next) {
      if (this.leases.has(previous)) this.retired.add(previous);
      else void previous.close();
    }
    return previous;
  }

  async close(): Promise<void> {
    await this.current.close();
  }
}
