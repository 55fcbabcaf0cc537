// The messages between the pipeline's thread and the feature-store thread. A store call's
// entity batches travel as flat arrays (one string per event reference, numbers in typed
// arrays that are transferred, not copied); the observations come back the same way.
import type { EntityKind } from '../definitions.js';
import type { JournalTarget } from '../journal.js';
import type { EntityBatch, EntityEvent } from '../store.js';
import type { WindowSpec } from '../windows.js';

export interface EncodedBatches {
  /** Window layouts first used by this call, by index; later calls refer to them by index. */
  newLayouts: { index: number; windows: WindowSpec[] }[];
  /** Per batch entry: its layout's index, entity kind, id and number of events. */
  layouts: Uint32Array;
  entities: EntityKind[];
  ids: string[];
  counts: Uint32Array;
  /** Per event of each entry, entries in order. */
  transactionIds: string[];
  times: Float64Array;
  amounts: Float64Array;
  /** 1 for an event that only reads (EntityEvent.readOnly). */
  readOnly: Uint8Array;
  /** EntityEvent.mask (0 when absent). */
  masks: Uint32Array;
  /** How many distinct-value hashes each event has (EntityEvent.distinct), and all of them in order. */
  distinctCounts: Uint8Array;
  distinctValues: Float64Array;
  /** The call's journal targets; per event, the index of its target (-1: not journaled) and its offset. */
  journals: JournalTarget[];
  journalIndexes: Int32Array;
  offsets: Float64Array;
}

export interface ObservedArrays {
  aggregates: Float64Array;
  previousTimeMs: Float64Array;
  flags: Uint8Array;
}

export type Request =
  | { type: 'observe'; id: number; batches: EncodedBatches }
  | { type: 'claim'; id: number; partition: string }
  | { type: 'release'; id: number; partition: string; committedOffset: number }
  | { type: 'close' };

export type Reply =
  | { type: 'observed'; id: number; arrays: ObservedArrays }
  /** A claim's epoch and its journal's entries in write order (decoded by the caller). */
  | { type: 'claimed'; id: number; epoch: number; entries: Uint8Array[] }
  | { type: 'released'; id: number }
  /** `fenced`: the partitions a PartitionFencedError named. */
  | { type: 'failed'; id: number; name: string; message: string; fenced?: string[] }
  | { type: 'conflict'; entities: number }
  | { type: 'redis-error'; message: string }
  | { type: 'closed' };

/** Numbers each distinct window layout once per thread, so a call names it by index. */
export class LayoutRegistry {
  private readonly indexes = new Map<readonly WindowSpec[], number>();

  encode(batches: readonly EntityBatch[]): EncodedBatches {
    const newLayouts: EncodedBatches['newLayouts'] = [];
    const layouts = new Uint32Array(batches.length);
    const counts = new Uint32Array(batches.length);
    const entities: EntityKind[] = [];
    const ids: string[] = [];
    let events = 0;
    batches.forEach((b, i) => {
      let index = this.indexes.get(b.windows);
      if (index === undefined) {
        index = this.indexes.size;
        this.indexes.set(b.windows, index);
        newLayouts.push({ index, windows: [...b.windows] });
      }
      layouts[i] = index;
      counts[i] = b.events.length;
      entities.push(b.entity);
      ids.push(b.id);
      events += b.events.length;
    });
    const transactionIds: string[] = [];
    const times = new Float64Array(events);
    const amounts = new Float64Array(events);
    const readOnly = new Uint8Array(events);
    const masks = new Uint32Array(events);
    const distinctCounts = new Uint8Array(events);
    const journalIndexes = new Int32Array(events).fill(-1);
    const offsets = new Float64Array(events);
    const journals = new Map<JournalTarget, number>();
    let hashes = 0;
    let at = 0;
    for (const b of batches) {
      for (const e of b.events) {
        if (e.journal !== undefined) {
          let j = journals.get(e.journal);
          if (j === undefined) journals.set(e.journal, (j = journals.size));
          journalIndexes[at] = j;
          offsets[at] = e.offset ?? -1;
        }
        transactionIds.push(e.transactionId);
        times[at] = e.eventTimeMs;
        if (e.readOnly === true) readOnly[at] = 1;
        masks[at] = e.mask ?? 0;
        hashes += distinctCounts[at] = e.distinct?.length ?? 0;
        amounts[at++] = e.amount;
      }
    }
    return {
      newLayouts,
      layouts,
      entities,
      ids,
      counts,
      transactionIds,
      times,
      amounts,
      readOnly,
      masks,
      distinctCounts,
      distinctValues: distinctValuesOf(batches, hashes),
      journals: [...journals.keys()].map((t) => ({ id: t.id, epoch: t.epoch })),
      journalIndexes,
      offsets,
    };
  }
}

function distinctValuesOf(batches: readonly EntityBatch[], total: number): Float64Array {
  const values = new Float64Array(total);
  if (total === 0) return values;
  let at = 0;
  for (const b of batches) {
    for (const e of b.events) {
      if (e.distinct === undefined) continue;
      values.set(e.distinct, at);
      at += e.distinct.length;
    }
  }
  return values;
}

/** The receiving side: rebuilds the entity batches, one canonical windows array per layout. */
export class LayoutTable {
  private readonly windows: WindowSpec[][] = [];

  decode(encoded: EncodedBatches): EntityBatch[] {
    for (const { index, windows } of encoded.newLayouts) this.windows[index] = windows;
    const batches: EntityBatch[] = [];
    // One target object per partition, shared by its events, as on the sending side.
    const journals = encoded.journals.map((t) => ({ id: t.id, epoch: t.epoch }));
    let at = 0;
    let hashAt = 0;
    for (let i = 0; i < encoded.ids.length; i++) {
      const windows = this.windows[encoded.layouts[i] as number];
      if (windows === undefined) throw new Error(`unknown window layout ${encoded.layouts[i]}`);
      const count = encoded.counts[i] as number;
      const events: EntityEvent[] = new Array<EntityEvent>(count);
      for (let k = 0; k < count; k++, at++) {
        const event: EntityEvent = { transactionId: encoded.transactionIds[at] as string, eventTimeMs: encoded.times[at] as number, amount: encoded.amounts[at] as number };
        if (encoded.readOnly[at] === 1) event.readOnly = true;
        const mask = encoded.masks[at] as number;
        if (mask !== 0) event.mask = mask;
        const hashes = encoded.distinctCounts[at] as number;
        if (hashes > 0) event.distinct = encoded.distinctValues.subarray(hashAt, (hashAt += hashes));
        const j = encoded.journalIndexes[at] as number;
        if (j >= 0) {
          event.journal = journals[j];
          event.offset = encoded.offsets[at];
        }
        events[k] = event;
      }
      batches.push({ entity: encoded.entities[i] as EntityKind, id: encoded.ids[i] as string, windows, events });
    }
    return batches;
  }
}

/** The typed arrays of a message, to transfer instead of copy. */
export function transferables(value: EncodedBatches | ObservedArrays): ArrayBuffer[] {
  const arrays = 'times' in value ? [value.layouts, value.counts, value.times, value.amounts, value.readOnly, value.masks, value.distinctCounts, value.distinctValues, value.journalIndexes, value.offsets] : [value.aggregates, value.previousTimeMs, value.flags];
  return arrays.map((a) => a.buffer as ArrayBuffer);
}
