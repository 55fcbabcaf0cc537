// Turns a batch of transactions into feature vectors: groups events by entity, makes
// one store call for the whole batch, and derives the named features from the aggregates.
import type { ParsedTransaction } from '../contract/transaction.js';
import type { Aggregation, FeatureSet } from './definitions.js';
import { ENTITY_FIELD, EVENT_FEATURES } from './definitions.js';
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

interface Plan {
  /** Per windowed feature: where its aggregate is found, and where its value goes. */
  windowed: { group: string; key: string; entity: number; window: number; aggregation: Aggregation; column: number }[];
  eventColumns: number[];
  accountEntity: number;
}

const plans = new WeakMap<FeatureSet, Plan>();

function planFor(set: FeatureSet): Plan {
  let plan = plans.get(set);
  if (!plan) {
    plan = {
      windowed: set.windowed.map((def) => {
        const entity = set.entities.findIndex((e) => e.entity === def.entity);
        const window = (set.entities[entity]?.windows ?? []).findIndex((w) => w.name === def.window);
        return { group: def.entity, key: `${def.aggregation}_${def.window}`, entity, window, aggregation: def.aggregation, column: set.names.indexOf(def.name) };
      }),
      eventColumns: EVENT_FEATURES.map((name) => set.names.indexOf(name)),
      accountEntity: set.entities.findIndex((e) => e.entity === 'account'),
    };
    plans.set(set, plan);
  }
  return plan;
}

export async function computeFeatures(events: readonly ParsedTransaction[], set: FeatureSet, store: FeatureStore): Promise<BatchFeatures> {
  const plan = planFor(set);
  const { batches, slots } = groupByEntity(events, set);
  const observed = await store.observe(batches);
  const width = set.names.length;
  const entityCount = set.entities.length;
  const matrix = new Float32Array(events.length * width);
  const named: Record<string, Record<string, number>>[] = [];
  const tooLate: boolean[] = [];
  const duplicate: boolean[] = [];
  const seen: (EntityObservation | undefined)[] = new Array<EntityObservation | undefined>(entityCount);
  events.forEach((tx, row) => {
    for (let e = 0; e < entityCount; e++) {
      const b = slots[row * entityCount * 2 + e * 2] as number;
      seen[e] = b < 0 ? undefined : (observed[b] as EntityObservation[])[slots[row * entityCount * 2 + e * 2 + 1] as number];
    }
    const account = seen[plan.accountEntity];
    const values = eventFeatures(tx, account);
    const base = row * width;
    const ev = values.event as Record<string, number>;
    const eventValues = [ev.amount, ev.hour_of_day, ev.day_of_week, (values.account as Record<string, number>).seconds_since_last];
    plan.eventColumns.forEach((col, i) => {
      if (col >= 0) matrix[base + col] = eventValues[i] as number;
    });
    for (const f of plan.windowed) {
      const obs = seen[f.entity];
      const agg = obs?.windows[f.window];
      const value = agg ? aggregate(f.aggregation, agg, tx.event.amount) : 0;
      (values[f.group] ??= {})[f.key] = value;
      matrix[base + f.column] = value;
    }
    named.push(values);
    tooLate.push(account?.tooLate ?? false);
    duplicate.push(account?.duplicate ?? false);
  });
  return { matrix, named, tooLate, duplicate };
}

/**
 * Groups events per entity instance, in arrival order. `slots` holds, per event and tracked
 * entity, the batch index and the event's index in it (-1 when the event lacks that entity).
 */
function groupByEntity(events: readonly ParsedTransaction[], set: FeatureSet): { batches: EntityBatch[]; slots: Int32Array } {
  const index = new Map<string, number>();
  const batches: EntityBatch[] = [];
  const entityCount = set.entities.length;
  const slots = new Int32Array(events.length * entityCount * 2).fill(-1);
  events.forEach((tx, row) => {
    // One event object shared by every entity of the transaction.
    const event = { transactionId: tx.event.transactionId, eventTimeMs: tx.eventTimeMs, amount: tx.event.amount };
    set.entities.forEach(({ entity, windows }, e) => {
      const id = tx.event[ENTITY_FIELD[entity]];
      if (typeof id !== 'string') return;
      const key = `${entity}\u0000${id}`;
      let b = index.get(key);
      if (b === undefined) {
        b = batches.push({ entity, id, windows, events: [] }) - 1;
        index.set(key, b);
      }
      const at = (batches[b] as EntityBatch).events.push(event) - 1;
      slots[row * entityCount * 2 + e * 2] = b;
      slots[row * entityCount * 2 + e * 2 + 1] = at;
    });
  });
  return { batches, slots };
}

function eventFeatures(tx: ParsedTransaction, account: EntityObservation | undefined): Record<string, Record<string, number>> {
  const date = new Date(tx.eventTimeMs);
  const prev = account?.previousTimeMs ?? null;
  return {
    event: { amount: tx.event.amount, hour_of_day: date.getUTCHours(), day_of_week: date.getUTCDay() },
    account: { seconds_since_last: prev === null ? NO_PREVIOUS_EVENT_SECONDS : Math.max(0, (tx.eventTimeMs - prev) / 1000) },
  };
}

function aggregate(kind: Aggregation, agg: WindowAggregate, amount: number): number {
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
  }
}
