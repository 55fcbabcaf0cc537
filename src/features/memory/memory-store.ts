// The in-memory feature store: entity states kept live between calls (live-states.ts: no
// decode or encode per call; the rarely touched ones encoded as in Redis once they outgrow a
// budget), run through the same algorithm as the Redis store (entity-state.ts), with the same
// decision journal and fencing. Used by unit tests and the offline commands.
import { PartitionFencedError } from '../../contract/errors.js';
import { newEntityState, observeEvent, StateArena, type EntityState } from '../entity-state.js';
import { JournalChunks, JournalRecord } from '../journal.js';
import { journalTargets, Observations, type Claim, type EntityBatch, type EntityEvent, type FeatureStore, type StoreOptions } from '../store.js';
import { stateSpec, type StateSpec } from '../windows.js';
import { DEFAULT_LIVE_BYTES, LiveStates } from './live-states.js';

interface Journal {
  epoch: number;
  entries: { rows: Buffer; maxOffset: number }[];
}

export interface MemoryStoreOptions extends StoreOptions {
  /** Bytes of live (decoded) states kept before the least recently touched are encoded (live-states.ts). */
  liveBytes?: number;
}

export class MemoryFeatureStore implements FeatureStore {
  private readonly entities: LiveStates;
  private readonly journals = new Map<string, Journal>();
  /** Working memory for states that are only read (never kept) and for decoding. */
  private readonly arena = new StateArena();
  /** Per spec, the empty state read by events that only read an entity without state (never written). */
  private readonly empties = new Map<StateSpec, EntityState>();

  constructor(private readonly options: MemoryStoreOptions) {
    this.entities = new LiveStates(options.liveBytes ?? DEFAULT_LIVE_BYTES);
  }

  observe(batches: readonly EntityBatch[]): Promise<Observations> {
    const targets = journalTargets(batches);
    const fenced = [...targets].filter((t) => this.journalOf(t.id).epoch !== t.epoch);
    if (fenced.length > 0) return Promise.reject(new PartitionFencedError(fenced.map((t) => t.id)));
    const out = new Observations(batches);
    const chunks = new JournalChunks();
    this.arena.reset();
    this.entities.begin();
    for (let b = 0; b < batches.length; b++) {
      const batch = batches[b] as EntityBatch;
      const spec = stateSpec(batch.windows, this.options.allowedLatenessMs);
      // An entity without state is kept only once an event changes it (one only read keeps nothing).
      const state = this.entities.get(batch.entity, batch.id, spec, this.arena) ?? (batch.events.some((e) => e.readOnly !== true) ? this.entities.create(batch.entity, batch.id, spec) : this.emptyState(spec));
      const events = batch.events;
      for (let i = 0; i < events.length; i++) observeEvent(state, spec, events[i] as EntityEvent, out, out.row(b, i), out.aggregateAt(b, i));
      // The offline commands journal nothing: no pass over the events for it.
      if (targets.size > 0) out.journal(chunks, batch, b);
    }
    this.entities.end();
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

  /** Live (decoded) states now, and the bytes their layouts take. */
  get live(): { states: number; bytes: number } {
    return this.entities.liveCount;
  }

  /**
   * An empty state for events that only read (a transaction reading label windows nobody
   * labelled yet). Only reading never writes a state, so one per spec is shared, unless its
   * windows count distinct values (reading those keeps counts in their rings): those get a
   * fresh one from the arena each time.
   */
  private emptyState(spec: StateSpec): EntityState {
    if (spec.distinctCount > 0) return this.arena.take(spec);
    let state = this.empties.get(spec);
    if (state === undefined) this.empties.set(spec, (state = newEntityState(spec)));
    return state;
  }

  private journalOf(partition: string): Journal {
    let journal = this.journals.get(partition);
    if (journal === undefined) this.journals.set(partition, (journal = { epoch: 0, entries: [] }));
    return journal;
  }
}
