// The feature set: which entities are tracked over which windows, and the named
// features (`<entity>.<aggregation>_<window>`) the model and rules see.
import type { TransactionEvent } from '../contract/transaction.js';
import type { WindowSpec } from './windows.js';
import { windowSpec } from './windows.js';

export type EntityKind = 'account' | 'merchant' | 'card' | 'device';

/** Where each entity's id comes from in the event. */
export const ENTITY_FIELD: Record<EntityKind, keyof TransactionEvent> = {
  account: 'accountId',
  merchant: 'merchantId',
  card: 'cardId',
  device: 'deviceId',
};

export type Aggregation = 'count' | 'sum' | 'mean' | 'std' | 'amount_ratio';

export interface FeatureDefinition {
  name: string;
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

const DEFAULT_WINDOWED: [EntityKind, Aggregation, string][] = [
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

export function buildFeatureSet(windowed: [EntityKind, Aggregation, string][] = DEFAULT_WINDOWED): FeatureSet {
  const defs = windowed.map(([entity, aggregation, window]) => ({ name: `${entity}.${aggregation}_${window}`, entity, aggregation, window }));
  const entities: EntityWindows[] = [];
  for (const def of defs) {
    let entry = entities.find((e) => e.entity === def.entity);
    if (!entry) entities.push((entry = { entity: def.entity, windows: [] }));
    if (!entry.windows.some((w) => w.name === def.window)) entry.windows.push(windowSpec(def.window));
  }
  if (!entities.some((e) => e.entity === 'account')) entities.unshift({ entity: 'account', windows: [] });
  return { names: [...EVENT_FEATURES, ...defs.map((d) => d.name)], windowed: defs, entities };
}

export const DEFAULT_FEATURE_SET: FeatureSet = buildFeatureSet();
