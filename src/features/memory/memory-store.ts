// The in-memory feature store: entity states in a Map, encoded as in Redis (compact, so an
// offline replay over millions of entities fits in memory), run through the same algorithm
// as the Redis store (entity-state.ts). Used by unit tests and the offline replay mode.
import { observeEvent, StateArena } from '../entity-state.js';
import { decodeState, encodeState } from '../state-codec.js';
import { Observations, type EntityBatch, type FeatureStore, type StoreOptions } from '../store.js';
import { stateSpec } from '../windows.js';

export class MemoryFeatureStore implements FeatureStore {
  private readonly entities = new Map<string, Buffer>();
  private readonly arena = new StateArena();

  constructor(private readonly options: StoreOptions) {}

  observe(batches: readonly EntityBatch[]): Promise<Observations> {
    const out = new Observations(batches);
    this.arena.reset();
    batches.forEach((batch, b) => {
      const key = `${batch.entity}\u0000${batch.id}`;
      const spec = stateSpec(batch.windows, this.options.allowedLatenessMs);
      const { version, state } = decodeState(this.entities.get(key) ?? null, spec, this.arena);
      let changed = false;
      batch.events.forEach((event, i) => {
        if (observeEvent(state, spec, event, out, out.row(b, i), out.aggregateAt(b, i))) changed = true;
      });
      if (changed) this.entities.set(key, encodeState(state, version + 1, spec));
    });
    return Promise.resolve(out);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Number of entity instances held. */
  get size(): number {
    return this.entities.size;
  }
}
