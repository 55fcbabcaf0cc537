// The decision journal: per partition, what each event of the batches applied to the feature
// state but not yet committed observed (its rows of aggregates, one per entity), so that an
// event redelivered after a crash, a rebalance or a refused commit is decided on exactly what
// it saw the first time instead of on a state that already holds it. The store writes the rows
// together with (single Redis) or before (Redis Cluster) the states they come from, one entry
// per store call; the worker drops a partition's entries once the broker has accepted offsets
// beyond them.
//
// A row, little-endian: offset, transaction-id hash, entity hash and previous event time
// (doubles), flags and width (uint32), then `width` aggregates (doubles). Entries are read back
// in write order, and a later row for the same offset and entity supersedes an earlier one (an
// entity recomputed after a write conflict is journaled again).
import { idHash } from './id-hash.js';

/** A partition whose events are journaled, under the fencing epoch its owner claimed. */
export interface JournalTarget {
  /** The partition, as `<group>/<topic>/<partition>`. */
  readonly id: string;
  /** Writes under an older epoch than the partition's current one are refused (a zombie owner). */
  readonly epoch: number;
}

const HEADER_BYTES = 40;

/** The entity hash journal rows are keyed by: the store and the engine compute the same one. */
export function entityHash(entity: string, id: string): number {
  return idHash(`${entity}\u0000${id}`);
}

/** Rows being written for one store call (or one attempt of it), per journal target. */
export class JournalChunks {
  private readonly chunks = new Map<JournalTarget, { buffer: Buffer; used: number; maxOffset: number }>();

  get size(): number {
    return this.chunks.size;
  }

  /** Appends one event's row for one entity: `width` aggregates from `aggregates[at]`. */
  add(target: JournalTarget, offset: number, txHash: number, entity: number, previousTimeMs: number, flags: number, aggregates: Float64Array, from: number, width: number): void {
    const bytes = HEADER_BYTES + 8 * width;
    let chunk = this.chunks.get(target);
    if (chunk === undefined) this.chunks.set(target, (chunk = { buffer: Buffer.allocUnsafe(Math.max(4096, bytes * 64)), used: 0, maxOffset: -1 }));
    if (chunk.used + bytes > chunk.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(chunk.buffer.length * 2, chunk.used + bytes));
      chunk.buffer.copy(grown, 0, 0, chunk.used);
      chunk.buffer = grown;
    }
    const b = chunk.buffer;
    let at = chunk.used;
    at = b.writeDoubleLE(offset, at);
    at = b.writeDoubleLE(txHash, at);
    at = b.writeDoubleLE(entity, at);
    at = b.writeDoubleLE(previousTimeMs, at);
    at = b.writeUInt32LE(flags, at);
    at = b.writeUInt32LE(width, at);
    for (let k = 0; k < width; k++) at = b.writeDoubleLE(aggregates[from + k] as number, at);
    chunk.used = at;
    chunk.maxOffset = Math.max(chunk.maxOffset, offset);
  }

  /** Each target's entry: its rows, as written, and the highest offset among them. */
  entries(): JournalEntry[] {
    return [...this.chunks].map(([target, chunk]) => ({ target, rows: chunk.buffer.subarray(0, chunk.used), maxOffset: chunk.maxOffset }));
  }
}

export interface JournalEntry {
  target: JournalTarget;
  rows: Buffer;
  maxOffset: number;
}

/** One entity's row of a journaled event: the observation the store made for it. */
export interface RecordedRow {
  previousTimeMs: number;
  flags: number;
  aggregates: Float64Array;
}

interface RecordedEvent {
  txHash: number;
  /** By entity hash. */
  rows: Map<number, RecordedRow>;
}

/** What a partition's journal held when its owner claimed it, by offset. */
export class JournalRecord {
  private constructor(
    private readonly events: Map<number, RecordedEvent>,
    /** The highest offset journaled (-1 when empty). */
    readonly maxOffset: number,
  ) {}

  static readonly EMPTY = new JournalRecord(new Map(), -1);

  /** Decodes a journal's entries, in write order; a truncated tail (which Redis never leaves) is ignored. */
  static decode(entries: readonly Uint8Array[]): JournalRecord {
    const events = new Map<number, RecordedEvent>();
    let max = -1;
    for (const bytes of entries) max = Math.max(max, decodeEntry(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), events));
    return max < 0 ? JournalRecord.EMPTY : new JournalRecord(events, max);
  }

  /** Events journaled. */
  get size(): number {
    return this.events.size;
  }

  /** The rows journaled for the event at `offset`, when it was the transaction hashing to `txHash`. */
  rowsAt(offset: number, txHash: number): Map<number, RecordedRow> | undefined {
    const event = this.events.get(offset);
    return event !== undefined && event.txHash === txHash ? event.rows : undefined;
  }
}

/** Adds one entry's rows to `events`; returns its highest offset (-1 when empty). */
function decodeEntry(b: Buffer, events: Map<number, RecordedEvent>): number {
  let max = -1;
  let at = 0;
  while (at + HEADER_BYTES <= b.length) {
    const offset = b.readDoubleLE(at);
    const txHash = b.readDoubleLE(at + 8);
    const entity = b.readDoubleLE(at + 16);
    const previousTimeMs = b.readDoubleLE(at + 24);
    const flags = b.readUInt32LE(at + 32);
    const width = b.readUInt32LE(at + 36);
    const end = at + HEADER_BYTES + 8 * width;
    if (end > b.length) break;
    const aggregates = new Float64Array(width);
    for (let k = 0; k < width; k++) aggregates[k] = b.readDoubleLE(at + HEADER_BYTES + 8 * k);
    let event = events.get(offset);
    // Another transaction at the same offset (a topic deleted and made again): the newer wins.
    if (event === undefined || event.txHash !== txHash) events.set(offset, (event = { txHash, rows: new Map() }));
    event.rows.set(entity, { previousTimeMs, flags, aggregates });
    max = Math.max(max, offset);
    at = end;
  }
  return max;
}
