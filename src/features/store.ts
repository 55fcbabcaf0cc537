// The feature store port: what the pipeline needs from Redis or the in-memory store.
import type { EntityKind } from './definitions.js';
import { idHash } from './id-hash.js';
import { entityHash, type JournalChunks, type JournalRecord, type JournalTarget } from './journal.js';
import { rowLayout, type WindowSpec } from './windows.js';

/** Values an entry copies element by element (more go through typed-array views). */
const SMALL_COPY = 64;

export interface EntityEvent {
  transactionId: string;
  eventTimeMs: number;
  amount: number;
  /** Read the entity's windows as of this time without applying the event (a transaction reading label windows). */
  readOnly?: boolean;
  /** Bits of the feature set's filters this event passes (WindowSpec.filter.bit); none when absent. */
  mask?: number;
  /** Per distinct field of the feature set (DistinctSpec.field), the 53-bit hash of the event's value; NaN when it has none. */
  distinct?: Float64Array;
  /** Journal what this event observes, for every entity, under `offset` in this partition's journal (journal.ts). */
  journal?: JournalTarget;
  offset?: number;
}

/** All events of one entity instance in a batch, in arrival order. */
export interface EntityBatch {
  entity: EntityKind;
  id: string;
  windows: readonly WindowSpec[];
  events: EntityEvent[];
}

export interface WindowAggregate {
  count: number;
  sum: number;
  sumSq: number;
  /** Smallest and largest amount in the window (NaN when it is empty), for windows that keep extremes. */
  min?: number;
  max?: number;
  /** Distinct values per distinct field of the window, in its order. */
  distinct?: number[];
}

/** What the store saw for one event of one entity: the state as of that event, itself included. */
export interface EntityObservation {
  /** The transactionId was already applied; nothing changed. */
  duplicate: boolean;
  /** Older than the allowed lateness; decided on a best-effort read, not applied. */
  tooLate: boolean;
  /** Event time of the entity's previous event, when this event is in order. */
  previousTimeMs: number | null;
  /** One aggregate per window, in the order of the batch's `windows`. */
  windows: WindowAggregate[];
}

export const DUPLICATE = 1;
export const TOO_LATE = 2;

/**
 * What the store saw for every event of a store call, in typed arrays (no object per event
 * on the hot path). Row r is one event of one batch entry; `at(b, i)` gives event i of batch
 * entry b as an object.
 */
export class Observations {
  /** Per row, per window of its entity: count, sum, sum of squares, then its extremes and distinct counts (windows.ts, seriesWidth). */
  readonly aggregates: Float64Array;
  /** Per row: the entity's previous event time when this event is in order, else NaN. */
  readonly previousTimeMs: Float64Array;
  /** Per row: DUPLICATE and TOO_LATE bits. */
  readonly flags: Uint8Array;
  private readonly firstRow: Int32Array;
  private readonly firstAggregate: Int32Array;
  /** Per batch entry: doubles per event. */
  private readonly rowWidths: Int32Array;
  private readonly windows: (readonly WindowSpec[])[];

  /** `arrays`: results computed elsewhere (the store thread) for these same batches. */
  constructor(batches: readonly EntityBatch[], arrays?: { aggregates: Float64Array; previousTimeMs: Float64Array; flags: Uint8Array }) {
    this.firstRow = new Int32Array(batches.length);
    this.firstAggregate = new Int32Array(batches.length);
    this.rowWidths = new Int32Array(batches.length);
    this.windows = new Array<readonly WindowSpec[]>(batches.length);
    let rows = 0;
    let aggregates = 0;
    batches.forEach((b, i) => {
      const width = rowLayout(b.windows).width;
      this.firstRow[i] = rows;
      this.firstAggregate[i] = aggregates;
      this.rowWidths[i] = width;
      this.windows[i] = b.windows;
      rows += b.events.length;
      aggregates += b.events.length * width;
    });
    if (arrays !== undefined && (arrays.aggregates.length !== aggregates || arrays.previousTimeMs.length !== rows || arrays.flags.length !== rows)) {
      throw new Error(`observations do not fit their batches: ${arrays.flags.length} rows for ${rows} events`);
    }
    this.aggregates = arrays?.aggregates ?? new Float64Array(aggregates);
    this.previousTimeMs = arrays?.previousTimeMs ?? new Float64Array(rows);
    this.flags = arrays?.flags ?? new Uint8Array(rows);
  }

  /** The row of event i of batch entry b. */
  row(b: number, i: number): number {
    return (this.firstRow[b] as number) + i;
  }

  /** Where event i of batch entry b has its first window's count in `aggregates`. */
  aggregateAt(b: number, i: number): number {
    return (this.firstAggregate[b] as number) + i * (this.rowWidths[b] as number);
  }

  at(b: number, i: number): EntityObservation {
    const row = this.row(b, i);
    const flags = this.flags[row] as number;
    const previous = this.previousTimeMs[row] as number;
    const windows: WindowAggregate[] = [];
    let k = this.aggregateAt(b, i);
    for (const spec of this.windows[b] ?? []) {
      const a = this.aggregates;
      const aggregate: WindowAggregate = { count: a[k] as number, sum: a[k + 1] as number, sumSq: a[k + 2] as number };
      k += 3;
      if (spec.extremes === true) {
        aggregate.min = a[k++];
        aggregate.max = a[k++];
      }
      if (spec.distinct !== undefined) aggregate.distinct = spec.distinct.map(() => a[k++] as number);
      windows.push(aggregate);
    }
    return { duplicate: (flags & DUPLICATE) !== 0, tooLate: (flags & TOO_LATE) !== 0, previousTimeMs: Number.isNaN(previous) ? null : previous, windows };
  }

  /** Copies the results of `count` events, from event `fromI` of `from`'s entry `fromB` to the first events of entry `b`. */
  copyEntry(from: Observations, fromB: number, fromI: number, b: number, count: number): void {
    const src = from.row(fromB, fromI);
    const dst = this.row(b, 0);
    const width = this.rowWidths[b] as number;
    const srcAgg = from.aggregateAt(fromB, fromI);
    const dstAgg = this.aggregateAt(b, 0);
    // Most entries hold an event or two: copied in place, not through three subarray views each.
    if (count * width <= SMALL_COPY) {
      for (let k = 0; k < count; k++) {
        this.flags[dst + k] = from.flags[src + k] as number;
        this.previousTimeMs[dst + k] = from.previousTimeMs[src + k] as number;
      }
      for (let k = 0; k < count * width; k++) this.aggregates[dstAgg + k] = from.aggregates[srcAgg + k] as number;
      return;
    }
    this.flags.set(from.flags.subarray(src, src + count), dst);
    this.previousTimeMs.set(from.previousTimeMs.subarray(src, src + count), dst);
    this.aggregates.set(from.aggregates.subarray(srcAgg, srcAgg + count * width), dstAgg);
  }

  /** Journals what the journaled events of batch entry b observed (entry b is `batch`). */
  journal(chunks: JournalChunks, batch: EntityBatch, b: number): void {
    const width = this.rowWidths[b] as number;
    let entity = NaN;
    batch.events.forEach((event, i) => {
      if (event.journal === undefined) return;
      if (Number.isNaN(entity)) entity = entityHash(batch.entity, batch.id);
      const row = this.row(b, i);
      chunks.add(event.journal, event.offset ?? -1, idHash(event.transactionId), entity, this.previousTimeMs[row] as number, this.flags[row] as number, this.aggregates, this.aggregateAt(b, i), width);
    });
  }

  /** Every event of batch entry b, as objects. */
  entry(b: number): EntityObservation[] {
    const rows = (b + 1 < this.firstRow.length ? (this.firstRow[b + 1] as number) : this.flags.length) - (this.firstRow[b] as number);
    return Array.from({ length: rows }, (_, i) => this.at(b, i));
  }

  /** Every event of every batch entry, as objects. */
  all(): EntityObservation[] {
    return Array.from(this.firstRow, (_, b) => this.entry(b)).flat();
  }
}

/** The journal targets of a store call's events (one object per partition in the call). */
export function journalTargets(batches: readonly EntityBatch[]): Set<JournalTarget> {
  const targets = new Set<JournalTarget>();
  for (const batch of batches) for (const event of batch.events) if (event.journal !== undefined) targets.add(event.journal);
  return targets;
}

/** A partition's journal as its new owner finds it. */
export interface Claim {
  /** The owner's fencing epoch: writes journaled under an earlier one are refused from now on. */
  epoch: number;
  record: JournalRecord;
}

export interface FeatureStore {
  /**
   * Applies each event once and returns, per batch entry, the aggregates as of each of its
   * events. Events with a journal target have their observations journaled in the same step
   * (PartitionFencedError when a target's epoch is no longer current: nothing is written).
   */
  observe(batches: readonly EntityBatch[]): Promise<Observations>;
  /** Takes a partition over, fencing its earlier owners, and returns what its journal holds. */
  claim(partition: string): Promise<Claim>;
  /** Drops a partition's journal entries below `committedOffset` once the broker has accepted it. */
  release(partition: string, committedOffset: number): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  allowedLatenessMs: number;
}
