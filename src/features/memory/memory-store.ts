// The in-memory feature store: entity states in a Map, encoded as in Redis (compact, so an
// offline replay over millions of entities fits in memory), run through the same algorithm
// as the Redis store (entity-state.ts), with the same decision journal and fencing. Used by
// unit tests and the offline replay mode.
import { PartitionFencedError } from '../../contract/errors.js';
import { observeEvent, StateArena } from '../entity-state.js';
import { JournalChunks, JournalRecord } from '../journal.js';
import { decodeState, encodeState } from '../state-codec.js';
import { journalTargets, Observations, type Claim, type EntityBatch, type FeatureStore, type StoreOptions } from '../store.js';
import { stateSpec } from '../windows.js';

interface Journal {
  epoch: number;
  entries: { rows: Buffer; maxOffset: number }[];
}

export class MemoryFeatureStore implements FeatureStore {
  private readonly entities = new Map<string, Buffer>();
  private readonly journals = new Map<string, Journal>();
  private readonly arena = new StateArena();

  constructor(private readonly options: StoreOptions) {}

  observe(batches: readonly EntityBatch[]): Promise<Observations> {
    const fenced = [...journalTargets(batches)].filter((t) => this.journalOf(t.id).epoch !== t.epoch);
    if (fenced.length > 0) return Promise.reject(new PartitionFencedError(fenced.map((t) => t.id)));
    const out = new Observations(batches);
    const chunks = new JournalChunks();
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
      out.journal(chunks, batch, b);
    });
    for (const { target, rows, maxOffset } of chunks.entries()) this.journalOf(target.id).entries.push({ rows: Buffer.from(rows), maxOffset });
    return Promise.resolve(out);
  }

  claim(partition: string): Promise<Claim> {
    const journal = this.journalOf(partition);
    journal.epoch++;
    return Promise.resolve({ epoch: journal.epoch, record: JournalRecord.decode(journal.entries.map((e) => e.rows)) });
  }

  release(partition: string, committedOffset: number): Promise<void> {
    const journal = this.journalOf(partition);
    journal.entries = journal.entries.filter((e) => e.maxOffset >= committedOffset);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Number of entity instances held. */
  get size(): number {
    return this.entities.size;
  }

  private journalOf(partition: string): Journal {
    let journal = this.journals.get(partition);
    if (journal === undefined) this.journals.set(partition, (journal = { epoch: 0, entries: [] }));
    return journal;
  }
}
