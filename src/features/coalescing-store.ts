// At most two store calls at a time per process (the store pipelines them: one computes while
// the other's writes travel), with the calls that queued meanwhile merged into the next one.
// A worker decides several partitions concurrently and their batches share entities
// (merchants, devices): as separate calls they would read the same states and all but one
// would lose the compare-and-set, re-read and recompute. Merged, they make one read and one
// write, with no conflict between them, and the Redis round trips get fewer and fuller.
import { Observations, type Claim, type EntityBatch, type FeatureStore } from './store.js';

interface Call {
  batches: readonly EntityBatch[];
  resolve: (observations: Observations) => void;
  reject: (err: unknown) => void;
}

export class CoalescingFeatureStore implements FeatureStore {
  private queue: Call[] = [];
  private running = 0;

  constructor(
    private readonly inner: FeatureStore,
    private readonly maxInFlight = 2,
  ) {}

  observe(batches: readonly EntityBatch[]): Promise<Observations> {
    return new Promise<Observations>((resolve, reject) => {
      this.queue.push({ batches, resolve, reject });
      this.pump();
    });
  }

  claim(partition: string): Promise<Claim> {
    return this.inner.claim(partition);
  }

  release(partition: string, committedOffset: number): Promise<void> {
    return this.inner.release(partition, committedOffset);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private pump(): void {
    if (this.running >= this.maxInFlight || this.queue.length === 0) return;
    this.running++;
    const calls = this.queue;
    this.queue = [];
    void this.run(calls).finally(() => {
      this.running--;
      this.pump();
    });
  }

  private async run(calls: Call[]): Promise<void> {
    if (calls.length === 1) {
      const [call] = calls as [Call];
      await this.inner.observe(call.batches).then(call.resolve, call.reject);
      return;
    }
    // The same entity in several calls becomes one entry, its events in call order.
    const merged: EntityBatch[] = [];
    const byKey = new Map<string, number>();
    const placements = calls.map((call) =>
      call.batches.map((batch) => {
        const key = `${batch.entity}\u0000${batch.id}`;
        let m = byKey.get(key);
        if (m === undefined || (merged[m] as EntityBatch).windows !== batch.windows) {
          m = merged.push({ entity: batch.entity, id: batch.id, windows: batch.windows, events: [] }) - 1;
          byKey.set(key, m);
        }
        const entry = merged[m] as EntityBatch;
        const offset = entry.events.length;
        // A loop, not push(...events): a hot entity's events could exceed the argument limit.
        for (const event of batch.events) entry.events.push(event);
        return { m, offset };
      }),
    );
    let all: Observations;
    try {
      all = await this.inner.observe(merged);
    } catch (err) {
      for (const call of calls) call.reject(err);
      return;
    }
    calls.forEach((call, c) => {
      const out = new Observations(call.batches);
      (placements[c] as { m: number; offset: number }[]).forEach(({ m, offset }, b) => out.copyEntry(all, m, offset, b, (call.batches[b] as EntityBatch).events.length));
      call.resolve(out);
    });
  }
}
