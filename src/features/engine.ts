// Turns a batch of transactions into feature vectors: groups events by entity, makes
// one store call for the whole batch, and derives the named features from the aggregates.
import type { LabelEvent } from '../contract/label.js';
import type { ParsedTransaction } from '../contract/transaction.js';
import { AGGREGATIONS, valueOffset, type Derive } from './aggregations.js';
import type { FeatureSet } from './definitions.js';
import { EVENT_FEATURES, isLabelEntity, isWindowless } from './definitions.js';
import { idHash } from './id-hash.js';
import type { FeatureClock } from './clock.js';
import { filterMask } from './filters.js';
import { entityHash, type JournalRecord, type JournalTarget, type RecordedRow } from './journal.js';
import { DUPLICATE, TOO_LATE, type EntityBatch, type EntityEvent, type FeatureStore, type Observations } from './store.js';
import { ROW, rowLayout } from './windows.js';

export type NamedFeatures = Record<string, Record<string, number>>;

/** The features of a batch: one row per event, in the feature set's order. */
export class BatchFeatures {
  /** Row-major, `width` values per event, for the model. */
  readonly matrix: Float32Array;

  constructor(
    /** Row-major, `width` values per event, at full precision (for rules and explanations). */
    readonly values: Float64Array,
    readonly width: number,
    private readonly groups: readonly FeatureGroup[],
    /** Per event: 1 when older than the allowed lateness (decided, not applied). */
    readonly tooLate: Uint8Array,
    /** Per event: 1 when its transactionId had already been applied. */
    readonly duplicate: Uint8Array,
    /** Per event: 1 when it was decided on what its partition's journal recorded (a redelivery). */
    readonly replayed: Uint8Array = new Uint8Array(duplicate.length),
    /** Per event: 1 when dated past the clock's bound (clock.ts): decided on the windows as of the bound, not applied. */
    readonly future: Uint8Array = new Uint8Array(duplicate.length),
  ) {
    this.matrix = new Float32Array(values);
  }

  /** One event's features as `{ account: { count_1h: 3, ... }, event: {...} }`. */
  named(row: number): NamedFeatures {
    const out: NamedFeatures = {};
    for (const g of this.groups) out[g.group] = { ...g.template };
    return this.namedInto(row, out);
  }

  /**
   * Writes one event's features into `target`, an object from `named` reused from event to
   * event (rules read it during one evaluation; it allocates nothing per event).
   */
  namedInto(row: number, target: NamedFeatures): NamedFeatures {
    const base = row * this.width;
    for (const g of this.groups) {
      const values = target[g.group] as Record<string, number>;
      for (let i = 0; i < g.keys.length; i++) values[g.keys[i] as string] = this.values[base + (g.columns[i] as number)] as number;
    }
    return target;
  }
}

/** A batch's features in plain arrays, to move them to another thread (replay's decide thread). */
export interface BatchFeatureArrays {
  values: Float64Array;
  tooLate: Uint8Array;
  duplicate: Uint8Array;
  replayed: Uint8Array;
  future: Uint8Array;
}

export function featureArrays(f: BatchFeatures): BatchFeatureArrays {
  return { values: f.values, tooLate: f.tooLate, duplicate: f.duplicate, replayed: f.replayed, future: f.future };
}

/** The features `featureArrays` took apart, for the same feature set. */
export function batchFeaturesFrom(set: FeatureSet, a: BatchFeatureArrays): BatchFeatures {
  return new BatchFeatures(a.values, set.names.length, planFor(set).groups, a.tooLate, a.duplicate, a.replayed, a.future);
}

/** Default for `account.seconds_since_last` when the account has no earlier event in the store. */
export const NO_PREVIOUS_EVENT_SECONDS = 30 * 86_400;

interface FeatureGroup {
  group: string;
  keys: string[];
  columns: number[];
  /** An object with the group's keys, copied per event so every copy shares one shape. */
  template: Record<string, number>;
}

interface Plan {
  /**
   * Per windowed feature: its entity, where its series' results start in the entity's row of
   * observations and, for min, max and distinct, where its own value is; where its value goes.
   */
  /** Per windowed feature: its tracked entity, where its series' values and its own value are in a row, how it is derived (null: seconds since the previous event), its column. */
  windowed: { entity: number; at: number; valueAt: number; derive: Derive | null; column: number }[];
  /** Columns of event.amount, event.hour_of_day, event.day_of_week, account.seconds_since_last (-1: not in the set). */
  eventColumns: number[];
  accountEntity: number;
  groups: FeatureGroup[];
}

const plans = new WeakMap<FeatureSet, Plan>();

function planFor(set: FeatureSet): Plan {
  let plan = plans.get(set);
  if (!plan) {
    const groups: FeatureGroup[] = [];
    set.names.forEach((name, column) => {
      const dot = name.indexOf('.');
      const group = name.slice(0, dot);
      const key = name.slice(dot + 1);
      let g = groups.find((x) => x.group === group);
      if (!g) groups.push((g = { group, keys: [], columns: [], template: {} }));
      g.keys.push(key);
      g.columns.push(column);
      g.template[key] = 0;
    });
    plan = {
      windowed: set.windowed.map((def) => {
        const entity = set.entities.findIndex((e) => e.entity === def.entity);
        const windows = set.entities[entity]?.windows ?? [];
        const at = def.series < 0 ? 0 : (rowLayout(windows).offsets[def.series] as number);
        const kind = AGGREGATIONS[def.aggregation];
        const valueAt = at + valueOffset(windows[def.series], kind.reads, def.distinct);
        return { entity, at, valueAt, derive: isWindowless(def.aggregation) ? null : kind.derive, column: set.names.indexOf(def.name) };
      }),
      eventColumns: EVENT_FEATURES.map((name) => set.names.indexOf(name)),
      accountEntity: set.entities.findIndex((e) => e.entity === 'account'),
      groups,
    };
    plans.set(set, plan);
  }
  return plan;
}

/** A batch whose events are journaled (journal.ts), each in its partition's journal: a batch may hold several partitions' events. */
export interface BatchJournal {
  /** Per event, its partition's journal. */
  targets: readonly JournalTarget[];
  /** Per event, its offset in its partition. */
  offsets: ArrayLike<number>;
  /** Per event, its partition's journal as its owner claimed it: an event found there is decided on what it recorded. */
  recorded: readonly (JournalRecord | undefined)[];
}

/** The journal of a batch from one partition. */
export function partitionJournal(target: JournalTarget, offsets: readonly number[], recorded?: JournalRecord): BatchJournal {
  return { targets: offsets.map(() => target), offsets, recorded: offsets.map(() => recorded) };
}

/** A redelivered event's journaled rows, per tracked entity of the feature set (undefined: the event lacks it). */
interface Replay {
  row: number;
  rows: (RecordedRow | undefined)[];
}

/**
 * The features of a batch, in one store call. With a clock, an event dated past its bound is
 * observed as of the bound and applied nowhere (clock.ts).
 */
export async function computeFeatures(events: readonly ParsedTransaction[], set: FeatureSet, store: FeatureStore, journal?: BatchJournal, clock?: FeatureClock): Promise<BatchFeatures> {
  const plan = planFor(set);
  const future = new Uint8Array(events.length);
  const times = new Float64Array(events.length);
  const bounds = clock?.bounds(events);
  events.forEach((tx, row) => {
    const bound = bounds === undefined ? Infinity : (bounds[row] as number);
    future[row] = tx.eventTimeMs > bound ? 1 : 0;
    times[row] = Math.min(tx.eventTimeMs, bound);
  });
  const { batches, slots, replays } = groupByEntity(events, set, journal, times, future);
  const observed = await store.observe(batches);
  const replayed = new Uint8Array(events.length);
  for (const replay of replays) {
    restore(observed, slots, set.entities.length, replay);
    replayed[replay.row] = 1;
  }
  const width = set.names.length;
  const entityCount = set.entities.length;
  const values = new Float64Array(events.length * width);
  const tooLate = new Uint8Array(events.length);
  const duplicate = new Uint8Array(events.length);
  const [amountCol, hourCol, dayCol, sinceCol] = plan.eventColumns as [number, number, number, number];
  const a = observed.aggregates;
  events.forEach((tx, row) => {
    const base = row * width;
    const amount = tx.event.amount;
    const date = new Date(tx.eventTimeMs);
    if (amountCol >= 0) values[base + amountCol] = amount;
    if (hourCol >= 0) values[base + hourCol] = date.getUTCHours();
    if (dayCol >= 0) values[base + dayCol] = date.getUTCDay();
    const slot = row * entityCount * 2;
    for (const f of plan.windowed) {
      const b = slots[slot + f.entity * 2] as number;
      if (f.derive === null) {
        const previous = b < 0 ? NaN : (observed.previousTimeMs[observed.row(b, slots[slot + f.entity * 2 + 1] as number)] as number);
        values[base + f.column] = secondsSince(times[row] as number, previous);
        continue;
      }
      if (b < 0) continue; // the event lacks this entity: 0
      const row0 = observed.aggregateAt(b, slots[slot + f.entity * 2 + 1] as number);
      const at = row0 + f.at;
      values[base + f.column] = f.derive(a[at + ROW.count] as number, a[at + ROW.sum] as number, a[at + ROW.sumSq] as number, a[row0 + f.valueAt] as number, amount);
    }
    const ab = plan.accountEntity >= 0 ? (slots[slot + plan.accountEntity * 2] as number) : -1;
    let previous = NaN;
    if (ab >= 0) {
      const r = observed.row(ab, slots[slot + plan.accountEntity * 2 + 1] as number);
      const flags = observed.flags[r] as number;
      tooLate[row] = (flags & TOO_LATE) !== 0 ? 1 : 0;
      duplicate[row] = (flags & DUPLICATE) !== 0 ? 1 : 0;
      previous = observed.previousTimeMs[r] as number;
    }
    if (sinceCol >= 0) values[base + sinceCol] = secondsSince(times[row] as number, previous);
  });
  return new BatchFeatures(values, width, plan.groups, tooLate, duplicate, replayed, future);
}

/** Puts a redelivered event's journaled rows in place of what the store saw this time (it already held the event). */
function restore(observed: Observations, slots: Int32Array, entityCount: number, replay: Replay): void {
  const base = replay.row * entityCount * 2;
  replay.rows.forEach((recorded, e) => {
    const b = slots[base + e * 2] as number;
    if (recorded === undefined || b < 0) return;
    const i = slots[base + e * 2 + 1] as number;
    const row = observed.row(b, i);
    observed.aggregates.set(recorded.aggregates, observed.aggregateAt(b, i));
    observed.flags[row] = recorded.flags;
    observed.previousTimeMs[row] = recorded.previousTimeMs;
  });
}

/**
 * The journaled rows of a redelivered event, one per tracked entity it has, when the journal
 * has every one of them in the current layout; else undefined (it is decided and journaled anew).
 */
function recordedRows(tx: ParsedTransaction, set: FeatureSet, rows: Map<number, RecordedRow>): (RecordedRow | undefined)[] | undefined {
  const out: (RecordedRow | undefined)[] = [];
  for (const { entity, field, windows } of set.entities) {
    const id = entityId(tx.event[field]);
    if (id === undefined) {
      out.push(undefined);
      continue;
    }
    const recorded = rows.get(entityHash(entity, id));
    if (recorded?.aggregates.length !== rowLayout(windows).width) return undefined;
    out.push(recorded);
  }
  return out;
}

/**
 * Groups events per entity instance, in arrival order. `slots` holds, per event and tracked
 * entity, the batch index and the event's index in it (-1 when the event lacks that entity).
 */
function groupByEntity(events: readonly ParsedTransaction[], set: FeatureSet, journal: BatchJournal | undefined, times: Float64Array, future: Uint8Array): { batches: EntityBatch[]; slots: Int32Array; replays: Replay[] } {
  const entityCount = set.entities.length;
  // Per tracked entity, its instances in this batch: where each is in `batches`.
  const index = set.entities.map(() => new Map<string, number>());
  const batches: EntityBatch[] = [];
  const slots = new Int32Array(events.length * entityCount * 2).fill(-1);
  const labelled = set.entities.map((e) => isLabelEntity(e.entity));
  const readsLabels = labelled.includes(true);
  const filters = set.filters;
  const distinctFields = set.distinctFields;
  const replays: Replay[] = [];
  events.forEach((tx, row) => {
    // One event object shared by every entity of the transaction; label windows are only read.
    const eventTimeMs = times[row] as number;
    const event: EntityEvent = { transactionId: tx.event.transactionId, eventTimeMs, amount: tx.event.amount };
    if (future[row] === 1) event.readOnly = true;
    if (filters.length > 0) event.mask = filterMask(filters, tx.event);
    if (distinctFields.length > 0) event.distinct = valueHashes(tx.event, distinctFields);
    const reader: EntityEvent | null = readsLabels ? { transactionId: tx.event.transactionId, eventTimeMs, amount: 0, readOnly: true } : null;
    if (journal !== undefined) {
      // A redelivered event is still applied (a no-op once its state holds it) but not journaled again.
      const offset = journal.offsets[row] as number;
      const recorded = journal.recorded[row];
      const journaled = recorded !== undefined && offset <= recorded.maxOffset ? recorded.rowsAt(offset, idHash(tx.event.transactionId)) : undefined;
      const rows = journaled === undefined ? undefined : recordedRows(tx, set, journaled);
      if (rows !== undefined) {
        replays.push({ row, rows });
      } else {
        const target = journal.targets[row] as JournalTarget;
        event.journal = target;
        event.offset = offset;
        if (reader !== null) {
          reader.journal = target;
          reader.offset = offset;
        }
      }
    }
    for (let e = 0; e < entityCount; e++) {
      const { entity, field, windows } = set.entities[e] as FeatureSet['entities'][number];
      const id = entityId(tx.event[field]);
      if (id === undefined) continue;
      const byId = index[e] as Map<string, number>;
      const seen = reader !== null && labelled[e] === true ? reader : event;
      let at = byId.get(id);
      if (at === undefined) {
        // Most entities have one event in a batch: an array of one (a push onto an empty array reserves 17).
        at = batches.push({ entity, id, windows, events: [seen] }) - 1;
        byId.set(id, at);
        slots[row * entityCount * 2 + e * 2] = at;
        slots[row * entityCount * 2 + e * 2 + 1] = 0;
        continue;
      }
      slots[row * entityCount * 2 + e * 2] = at;
      slots[row * entityCount * 2 + e * 2 + 1] = (batches[at] as EntityBatch).events.push(seen) - 1;
    }
  });
  return { batches, slots, replays };
}

/** An entity id from an event field: a non-empty string, or a finite number or a boolean as text; else none. */
function entityId(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Per distinct field, the hash of the event's value (NaN when it has none). */
function valueHashes(event: ParsedTransaction['event'], fields: readonly string[]): Float64Array {
  const hashes = new Float64Array(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const id = entityId(event[fields[i] as string]);
    hashes[i] = id === undefined ? NaN : idHash(id);
  }
  return hashes;
}

/** Since the entity's previous in-order event; NO_PREVIOUS_EVENT_SECONDS when there is none (or no entity). */
function secondsSince(timeMs: number, previousMs: number): number {
  return Number.isNaN(previousMs) ? NO_PREVIOUS_EVENT_SECONDS : Math.max(0, (timeMs - previousMs) / 1000);
}

/**
 * Applies labels to the label windows of their account and merchant (one store call); a
 * redelivered label (same transaction, same time) is applied once. Nothing to do when the
 * feature set has no label features.
 */
export async function applyLabels(labels: readonly LabelEvent[], set: FeatureSet, store: FeatureStore): Promise<void> {
  const batches = labelBatches(labels, set);
  if (batches.length > 0) await store.observe(batches);
}

/** Labels as the events of their label windows' entities (none when the set has no label features), in label order per entity. */
export function labelBatches(labels: readonly LabelEvent[], set: FeatureSet): EntityBatch[] {
  const tracked = set.entities.filter((e) => isLabelEntity(e.entity));
  if (tracked.length === 0 || labels.length === 0) return [];
  const batches = new Map<string, EntityBatch>();
  for (const label of labels) {
    const event = { transactionId: label.transactionId, eventTimeMs: label.knownAtMs, amount: label.fraud ? 1 : 0 };
    for (const { entity, windows } of tracked) {
      const id = entity === 'account_labels' ? label.accountId : label.merchantId;
      if (id === undefined) continue;
      const key = `${entity}\u0000${id}`;
      let batch = batches.get(key);
      if (batch === undefined) batches.set(key, (batch = { entity, id, windows, events: [] }));
      batch.events.push(event);
    }
  }
  return [...batches.values()];
}
