// Turns a batch of transactions into feature vectors: groups events by entity, makes
// one store call for the whole batch, and derives the named features from the aggregates.
import type { ParsedTransaction } from '../contract/transaction.js';
import type { EntityKind, FeatureSet } from './definitions.js';
import { ENTITY_FIELD } from './definitions.js';
import type { EntityBatch, EntityObservation, FeatureStore, WindowAggregate } from './store.js';

export interface BatchFeatures {
  /** Row-major, `names.length` values per event, in the feature set's order. */
  matrix: Float32Array;
  /** Per event: `{ account: { count_1h: 3, ... }, event: {...} }`, for rules and explanations. */
  named: Record<string, Record<string, number>>[];
  /** Per event: older than the allowed lateness (decided, not applied). */
  tooLate: boolean[];
  /** Per event: its transactionId had already been applied. */
  duplicate: boolean[];
}

/** Default for `account.seconds_since_last` when the account has no earlier event in the store. */
export const NO_PREVIOUS_EVENT_SECONDS = 30 * 86_400;

export async function computeFeatures(events: readonly ParsedTransaction[], set: FeatureSet, store: FeatureStore): Promise<BatchFeatures> {
  const { batches, slots } = groupByEntity(events, set);
  const observed = await store.observe(batches);
  const width = set.names.length;
  const matrix = new Float32Array(events.length * width);
  const named: Record<string, Record<string, number>>[] = [];
  const tooLate: boolean[] = [];
  const duplicate: boolean[] = [];
  events.forEach((tx, row) => {
    const perEntity = new Map<EntityKind, { obs: EntityObservation; batch: EntityBatch }>();
    for (const [b, k] of slots[row] as [number, number][]) {
      perEntity.set((batches[b] as EntityBatch).entity, { obs: (observed[b] as EntityObservation[])[k] as EntityObservation, batch: batches[b] as EntityBatch });
    }
    const account = perEntity.get('account');
    const values = namedFeatures(tx, set, perEntity);
    named.push(values);
    tooLate.push(account?.obs.tooLate ?? false);
    duplicate.push(account?.obs.duplicate ?? false);
    set.names.forEach((name, col) => {
      const [group, feature] = splitName(name);
      matrix[row * width + col] = values[group]?.[feature] ?? 0;
    });
  });
  return { matrix, named, tooLate, duplicate };
}

/** Groups events per entity instance, in arrival order; `slots[row]` says where each event's observations land. */
function groupByEntity(events: readonly ParsedTransaction[], set: FeatureSet): { batches: EntityBatch[]; slots: [number, number][][] } {
  const index = new Map<string, number>();
  const batches: EntityBatch[] = [];
  const slots = events.map((tx) => {
    const mine: [number, number][] = [];
    for (const { entity, windows } of set.entities) {
      const id = tx.event[ENTITY_FIELD[entity]];
      if (typeof id !== 'string') continue;
      const key = `${entity}\u0000${id}`;
      let b = index.get(key);
      if (b === undefined) {
        b = batches.push({ entity, id, windows, events: [] }) - 1;
        index.set(key, b);
      }
      const batch = batches[b] as EntityBatch;
      mine.push([b, batch.events.push({ transactionId: tx.event.transactionId, eventTimeMs: tx.eventTimeMs, amount: tx.event.amount }) - 1]);
    }
    return mine;
  });
  return { batches, slots };
}

function namedFeatures(tx: ParsedTransaction, set: FeatureSet, perEntity: Map<EntityKind, { obs: EntityObservation; batch: EntityBatch }>): Record<string, Record<string, number>> {
  const date = new Date(tx.eventTimeMs);
  const account = perEntity.get('account');
  const prev = account?.obs.previousTimeMs ?? null;
  const out: Record<string, Record<string, number>> = {
    event: { amount: tx.event.amount, hour_of_day: date.getUTCHours(), day_of_week: date.getUTCDay() },
    account: { seconds_since_last: prev === null ? NO_PREVIOUS_EVENT_SECONDS : Math.max(0, (tx.eventTimeMs - prev) / 1000) },
  };
  for (const def of set.windowed) {
    const group = (out[def.entity] ??= {});
    const seen = perEntity.get(def.entity);
    const w = seen ? seen.batch.windows.findIndex((s) => s.name === def.window) : -1;
    const agg = seen && w >= 0 ? (seen.obs.windows[w] as WindowAggregate) : null;
    group[`${def.aggregation}_${def.window}`] = agg ? aggregate(def.aggregation, agg, tx.event.amount) : 0;
  }
  return out;
}

function aggregate(kind: string, agg: WindowAggregate, amount: number): number {
  const mean = agg.count > 0 ? agg.sum / agg.count : 0;
  switch (kind) {
    case 'count':
      return agg.count;
    case 'sum':
      return agg.sum;
    case 'mean':
      return mean;
    case 'std':
      return agg.count > 1 ? Math.sqrt(Math.max(0, agg.sumSq / agg.count - mean * mean)) : 0;
    case 'amount_ratio':
      return mean > 0 ? amount / mean : 1;
    default:
      return 0;
  }
}

function splitName(name: string): [string, string] {
  const dot = name.indexOf('.');
  return [name.slice(0, dot), name.slice(dot + 1)];
}
