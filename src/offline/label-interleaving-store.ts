// Labels applied inside the transactions' store call, each at its time: the offline commands
// stage the labels known by a chunk's last transaction, and the next store call applies each
// one to its label window just before the first transaction that reads the window at or after
// the time the label became known. A transaction thus counts exactly the labels known at its
// own time (ties included), as when each label cut the history into chunks of its own, but a
// chunk of a thousand transactions stays one store call and one model run.
//
// Exact because a label window is changed only by labels and only read by transactions: its
// state before a transaction's read depends only on the labels applied before it, in order.
import type { EntityBatch, EntityEvent, FeatureStore } from '../features/store.js';
import { Observations } from '../features/store.js';
import { isLabelEntity } from '../features/definitions.js';
import { rowLayout } from '../features/windows.js';

export class LabelInterleavingStore implements FeatureStore {
  /** Staged label events per label-window entity, in the order they became known. */
  private staged = new Map<string, EntityBatch>();

  constructor(private readonly inner: FeatureStore) {}

  /** Label events (engine.ts labelBatches) for the next store call. */
  stage(batches: readonly EntityBatch[]): void {
    for (const batch of batches) {
      const key = keyOf(batch);
      const held = this.staged.get(key);
      if (held === undefined) this.staged.set(key, { ...batch, events: [...batch.events] });
      else held.events.push(...batch.events);
    }
  }

  async observe(batches: readonly EntityBatch[]): Promise<Observations> {
    if (this.staged.size === 0) return this.inner.observe(batches);
    const staged = this.staged;
    this.staged = new Map();
    const positions: (Int32Array | null)[] = [];
    const merged = batches.map((batch) => {
      // Only label windows have labels staged (no key made for the others).
      const labels = isLabelEntity(batch.entity) ? staged.get(keyOf(batch)) : undefined;
      if (labels === undefined) {
        positions.push(null);
        return batch;
      }
      staged.delete(keyOf(batch));
      const { events, at } = interleave(labels.events, batch.events);
      positions.push(at);
      return { ...batch, events };
    });
    const seen = await this.inner.observe([...merged, ...staged.values()]);
    return seenBy(batches, seen, positions);
  }

  claim(partition: string): ReturnType<FeatureStore['claim']> {
    return this.inner.claim(partition);
  }

  release(partition: string, committedOffset: number): Promise<void> {
    return this.inner.release(partition, committedOffset);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function keyOf(batch: EntityBatch): string {
  return `${batch.entity}\u0000${batch.id}`;
}

/**
 * The labels (in time order) merged before the reads (in time order) at or after their time;
 * `at`: each read's index among the merged events.
 */
function interleave(labels: readonly EntityEvent[], reads: readonly EntityEvent[]): { events: EntityEvent[]; at: Int32Array } {
  const events: EntityEvent[] = [];
  const at = new Int32Array(reads.length);
  let l = 0;
  reads.forEach((read, r) => {
    while (l < labels.length && (labels[l] as EntityEvent).eventTimeMs <= read.eventTimeMs) events.push(labels[l++] as EntityEvent);
    at[r] = events.push(read) - 1;
  });
  while (l < labels.length) events.push(labels[l++] as EntityEvent);
  return { events, at };
}

/** What the callers' own events saw, in the layout of their batches. */
function seenBy(batches: readonly EntityBatch[], seen: Observations, positions: readonly (Int32Array | null)[]): Observations {
  const out = new Observations(batches);
  // The batches before the first with labels merged in have the same rows in both: one copy.
  const first = positions.findIndex((p) => p !== null);
  const prefix = first < 0 ? batches.length : first;
  const rows = prefix < batches.length ? out.row(prefix, 0) : out.flags.length;
  const aggregates = prefix < batches.length ? out.aggregateAt(prefix, 0) : out.aggregates.length;
  out.flags.set(seen.flags.subarray(0, rows));
  out.previousTimeMs.set(seen.previousTimeMs.subarray(0, rows));
  out.aggregates.set(seen.aggregates.subarray(0, aggregates));
  batches.forEach((batch, b) => {
    if (b < prefix) return;
    const at = positions[b];
    if (at === null || at === undefined) {
      if (batch.events.length > 0) out.copyEntry(seen, b, 0, b, batch.events.length);
      return;
    }
    const width = rowLayout(batch.windows).width;
    for (let i = 0; i < at.length; i++) {
      const from = seen.row(b, at[i] as number);
      const to = out.row(b, i);
      out.flags[to] = seen.flags[from] as number;
      out.previousTimeMs[to] = seen.previousTimeMs[from] as number;
      const agg = seen.aggregateAt(b, at[i] as number);
      out.aggregates.set(seen.aggregates.subarray(agg, agg + width), out.aggregateAt(b, i));
    }
  });
  return out;
}
