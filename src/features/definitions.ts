// The feature set: which entities are tracked over which windows, and the named
// features (`<entity>.<aggregation>_<window>`) the model and rules see.
import type { TransactionEvent } from '../contract/transaction.js';
import type { WindowSpec } from './windows.js';
import { windowSpec } from './windows.js';

/** Entities whose transactions are counted. */
export type TransactionEntity = 'account' | 'merchant' | 'card' | 'device';
/**
 * What the store tracks: an entity's transactions, or the labels of an account's or a
 * merchant's transactions (fed by `fraud-labels`, windowed by when each label became known).
 */
export type EntityKind = TransactionEntity | 'account_labels' | 'merchant_labels';

/** Where each entity's id comes from in the event. */
export const ENTITY_FIELD: Record<EntityKind, keyof TransactionEvent> = {
  account: 'accountId',
  merchant: 'merchantId',
  card: 'cardId',
  device: 'deviceId',
  account_labels: 'accountId',
  merchant_labels: 'merchantId',
};

export type Aggregation = 'count' | 'sum' | 'mean' | 'std' | 'amount_ratio' | 'seconds_since_last' | LabelAggregation;

/** Aggregations over no window: `seconds_since_last` is since the entity's previous event. */
export function isWindowless(a: Aggregation): boolean {
  return a === 'seconds_since_last';
}

/** Over labels: labelled transactions, confirmed frauds among them, and their ratio. */
export type LabelAggregation = 'labelled_count' | 'fraud_count' | 'fraud_rate';
export const LABEL_AGGREGATIONS: readonly LabelAggregation[] = ['labelled_count', 'fraud_count', 'fraud_rate'];

/** The label stream of an entity; labels name their account and, optionally, merchant. */
export const LABEL_ENTITY: Partial<Record<TransactionEntity, EntityKind>> = { account: 'account_labels', merchant: 'merchant_labels' };

export function isLabelEntity(kind: EntityKind): boolean {
  return kind === 'account_labels' || kind === 'merchant_labels';
}

function isLabelAggregation(a: Aggregation): a is LabelAggregation {
  return (LABEL_AGGREGATIONS as readonly string[]).includes(a);
}

export interface FeatureDefinition {
  name: string;
  /** The tracked entity: for a label aggregation, the entity's label stream. */
  entity: EntityKind;
  aggregation: Aggregation;
  window: string;
}

export interface EntityWindows {
  entity: EntityKind;
  windows: WindowSpec[];
}

export interface FeatureSet {
  /** Features in the order the model expects them. */
  names: string[];
  windowed: FeatureDefinition[];
  /** Per tracked entity, the windows its store keeps. */
  entities: EntityWindows[];
}

const DEFAULT_WINDOWED: [TransactionEntity, Aggregation, string][] = [
  ['account', 'count', '10m'],
  ['account', 'count', '1h'],
  ['account', 'sum', '1h'],
  ['account', 'count', '1d'],
  ['account', 'sum', '1d'],
  ['account', 'mean', '30d'],
  ['account', 'std', '30d'],
  ['account', 'amount_ratio', '30d'],
  ['card', 'count', '1h'],
  ['device', 'count', '1d'],
  ['merchant', 'count', '1h'],
  ['merchant', 'count', '1d'],
  ['merchant', 'mean', '7d'],
];

/** Features computed from the event alone, before the windowed ones. */
export const EVENT_FEATURES = ['event.amount', 'event.hour_of_day', 'event.day_of_week', 'account.seconds_since_last'] as const;

export function buildFeatureSet(windowed: [TransactionEntity, Aggregation, string][] = DEFAULT_WINDOWED): FeatureSet {
  const defs = windowed.map(([entity, aggregation, window]): FeatureDefinition => {
    const tracked = isLabelAggregation(aggregation) ? LABEL_ENTITY[entity] : entity;
    if (tracked === undefined) throw new Error(`${aggregation} needs labels, which name accounts and merchants, not ${entity}s`);
    return { name: isWindowless(aggregation) ? `${entity}.${aggregation}` : `${entity}.${aggregation}_${window}`, entity: tracked, aggregation, window };
  });
  const duplicate = defs.find((d) => (EVENT_FEATURES as readonly string[]).includes(d.name));
  if (duplicate) throw new Error(`${duplicate.name} is always in the set`);
  const entities: EntityWindows[] = [];
  for (const def of defs) {
    let entry = entities.find((e) => e.entity === def.entity);
    if (!entry) entities.push((entry = { entity: def.entity, windows: [] }));
    if (!isWindowless(def.aggregation) && !entry.windows.some((w) => w.name === def.window)) entry.windows.push(windowSpec(def.window));
  }
  if (!entities.some((e) => e.entity === 'account')) entities.unshift({ entity: 'account', windows: [] });
  return { names: [...EVENT_FEATURES, ...defs.map((d) => d.name)], windowed: defs, entities };
}

export const DEFAULT_FEATURE_SET: FeatureSet = buildFeatureSet();
