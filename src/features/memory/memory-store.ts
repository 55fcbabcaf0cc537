// The in-memory feature store: entity states in a Map, run through the same algorithm as
// the Redis store (entity-state.ts). Used by unit tests and the offline replay mode.
import { emptyState, observeEvent, type EntityState } from '../entity-state.js';
import type { EntityBatch, EntityObservation, FeatureStore, StoreOptions } from '../store.js';
import { stateSpec } from '../windows.js';

export class MemoryFeatureStore implements FeatureStore {
  private readonly entities = new Map<string, EntityState>();

  constructor(private readonly options: StoreOptions) {}

  observe(batches: readonly EntityBatch[]): Promise<EntityObservation[][]> {
    return Promise.resolve(
      batches.map((batch) => {
        const key = `${batch.entity}\u0000${batch.id}`;
        const spec = stateSpec(batch.windows, this.options.allowedLatenessMs);
        let state = this.entities.get(key);
        if (!state) this.entities.set(key, (state = emptyState(spec)));
        return batch.events.map((event) => observeEvent(state, spec, event).observation);
      }),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Number of entity instances held. */
  get size(): number {
    return this.entities.size;
  }
}
