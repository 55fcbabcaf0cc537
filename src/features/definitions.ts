// The feature set: which entities are tracked over which windows, and the named
// features (`<entity>.<aggregation>_<window>`) the model and rules see.
import { AGGREGATIONS, type Aggregation } from './aggregations.js';
import type { WindowSpec } from './windows.js';
import { windowSpec } from './windows.js';
import { compileFilter, MAX_FILTERS, type CompiledFilter } from './filters.js';

/** The built-in entities and the event field each one's id comes from. */
export const BUILT_IN_ENTITIES = { account: 'accountId', merchant: 'merchantId', card: 'cardId', device: 'deviceId', ip: 'ipAddress' } as const;
export type BuiltInEntity = keyof typeof BUILT_IN_ENTITIES;

/**
 * What the store tracks, by name: an entity's transactions (a built-in entity, or one keyed by
 * any event field), or `account_labels` / `merchant_labels`, the labels of an account's or a
 * merchant's transactions (fed by `fraud-labels`, windowed by when each label became known).
 */
export type EntityKind = string;

export type { Aggregation } from './aggregations.js';

/** The entities whose labels are tracked: labels name their account and, optionally, merchant. */
export const LABEL_ENTITY: Partial<Record<string, EntityKind>> = { account: 'account_labels', merchant: 'merchant_labels' };

/** How many distinct values a distinct count counts up to, unless a definition says otherwise. */
export const DEFAULT_DISTINCT_LIMIT = 50;

/** Aggregations over no window (`seconds_since_last`: since the entity's previous event). */
export function isWindowless(a: Aggregation): boolean {
  return AGGREGATIONS[a].source === 'previous-event';
}

export function isLabelEntity(kind: EntityKind): boolean {
  return kind === 'account_labels' || kind === 'merchant_labels';
}

/** Aggregations over the labels of an entity's transactions (labelled_count, fraud_count, fraud_rate). */
export function isLabelAggregation(a: Aggregation): boolean {
  return AGGREGATIONS[a].source === 'labels';
}

/** Only aggregations over payments in a window take a filter. */
export function takesFilter(a: Aggregation): boolean {
  return AGGREGATIONS[a].source === 'payments';
}

/** Only aggregations whose series keeps distinct values take `of` and `limit`. */
export function countsDistinct(a: Aggregation): boolean {
  return AGGREGATIONS[a].needs === 'distinct';
}

/** One feature as written in a definitions file (load.ts validates it). */
export interface FeatureInput {
  /** A built-in entity, or a name for the entity keyed by `field`. */
  entity: string;
  /** The event field whose value is the entity's id: only for entities that are not built in. */
  field?: string;
  aggregation: Aggregation;
  window?: string;
  /** CEL over `event`: only the payments that pass count in this feature. */
  filter?: string;
  /** For `distinct`: whose values are counted, a built-in entity or an event field. */
  of?: string;
  /** For `distinct`: counts up to this many values (default DEFAULT_DISTINCT_LIMIT). */
  limit?: number;
  /** The name after the entity's: default `<aggregation>_<window>`, or `distinct_<of>_<window>`. */
  name?: string;
}

export interface FeatureDefinition {
  name: string;
  /** The tracked entity: for a label aggregation, the entity's label stream. */
  entity: EntityKind;
  aggregation: Aggregation;
  window: string;
  /** Index of its series in the tracked entity's windows; -1 for a window-less feature. */
  series: number;
  /** For `distinct`: index of its field among the series' distinct fields; else -1. */
  distinct: number;
}

export interface EntityWindows {
  entity: EntityKind;
  /** The event field whose value is the entity's id. */
  field: string;
  /** The series the store keeps (a window, filtered or not, with what it needs per bucket). */
  windows: WindowSpec[];
}

export interface FeatureSet {
  /** Features in the order the model expects them. */
  names: string[];
  windowed: FeatureDefinition[];
  /** Per tracked entity, the windows its store keeps. */
  entities: EntityWindows[];
  /** The filters of the set; filter i is bit 1 << i of EntityEvent.mask. */
  filters: CompiledFilter[];
  /** The fields whose distinct values are counted; field i is EntityEvent.distinct[i]. */
  distinctFields: string[];
}

/** The built-in set's windowed features, as definitions (features/default.yaml is the same as a file). */
export const DEFAULT_FEATURE_INPUTS: readonly FeatureInput[] = (
  [
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
  ] as const
)
  .map(([entity, aggregation, window]): FeatureInput => ({ entity, aggregation, window }))
  .concat([
    // Card testing is a burst of online payments; a burst at the till is more often a car park.
    { entity: 'card', aggregation: 'count', window: '1h', filter: "has(event.channel) && event.channel == 'ecom'", name: 'ecom_count_1h' },
    // Frauds confirmed at the merchant, by when their labels became known: a compromised till.
    { entity: 'merchant', aggregation: 'fraud_count', window: '7d' },
    { entity: 'merchant', aggregation: 'fraud_rate', window: '7d' },
  ]);

/** Features computed from the event alone, before the windowed ones. */
export const EVENT_FEATURES = ['event.amount', 'event.hour_of_day', 'event.day_of_week', 'account.seconds_since_last'] as const;

/** The event field a built-in entity or a field name stands for. */
export function fieldOf(entityOrField: string): string {
  return (BUILT_IN_ENTITIES as Record<string, string>)[entityOrField] ?? entityOrField;
}

/** The feature's name: `<entity>.<name>`. */
export function featureName(input: FeatureInput): string {
  if (input.name !== undefined) return `${input.entity}.${input.name}`;
  if (isWindowless(input.aggregation)) return `${input.entity}.${input.aggregation}`;
  if (countsDistinct(input.aggregation)) return `${input.entity}.${input.aggregation}_${input.of ?? ''}_${input.window ?? ''}`;
  return `${input.entity}.${input.aggregation}_${input.window ?? ''}`;
}

/** Builds a feature set from definitions that load.ts (or the code) has validated; throws on a contradiction. */
export function buildFeatureSet(inputs: readonly FeatureInput[] = DEFAULT_FEATURE_INPUTS): FeatureSet {
  const builder = new SetBuilder();
  const defs = inputs.map((input) => builder.add(input));
  const duplicate = defs.find((d, i) => (EVENT_FEATURES as readonly string[]).includes(d.name) || defs.findIndex((x) => x.name === d.name) !== i);
  if (duplicate) throw new Error(`${duplicate.name} is defined twice (the event features and account.seconds_since_last are always in the set)`);
  if (!builder.entities.some((e) => e.entity === 'account')) builder.entities.unshift({ entity: 'account', field: 'accountId', windows: [] });
  return { names: [...EVENT_FEATURES, ...defs.map((d) => d.name)], windowed: defs, entities: builder.entities, filters: builder.filters, distinctFields: builder.distinctFields };
}

/** Collects the entities, their series, the filters and the distinct fields a set's features need. */
class SetBuilder {
  readonly entities: EntityWindows[] = [];
  readonly filters: CompiledFilter[] = [];
  readonly distinctFields: string[] = [];

  add(input: FeatureInput): FeatureDefinition {
    const { aggregation } = input;
    const name = featureName(input);
    const tracked = isLabelAggregation(aggregation) ? LABEL_ENTITY[input.entity] : input.entity;
    if (tracked === undefined) throw new Error(`${name}: ${aggregation} needs labels, which name accounts and merchants, not ${input.entity}s`);
    const field = (BUILT_IN_ENTITIES as Record<string, string>)[input.entity] ?? input.field;
    if (field === undefined) throw new Error(`${name}: ${input.entity} is not a built-in entity, so it needs a field`);
    const entry = this.entity(tracked, field, name);
    if (input.filter !== undefined && !takesFilter(aggregation)) throw new Error(`${name}: ${aggregation} takes no filter`);
    if (isWindowless(aggregation)) return { name, entity: tracked, aggregation, window: '', series: -1, distinct: -1 };
    if (input.window === undefined) throw new Error(`${name}: a window is required`);
    const series = this.series(entry, input.window, input.filter);
    const spec = entry.windows[series] as WindowSpec;
    const { needs } = AGGREGATIONS[aggregation];
    if (needs === 'extremes') spec.extremes = true;
    let distinct = -1;
    if (needs === 'distinct') {
      if (input.of === undefined) throw new Error(`${name}: ${aggregation} needs \`of\`, the field whose values it counts`);
      const of = fieldOf(input.of);
      const limit = input.limit ?? DEFAULT_DISTINCT_LIMIT;
      const fields = (spec.distinct ??= []);
      distinct = fields.findIndex((d) => d.name === of && d.limit === limit);
      if (distinct < 0) distinct = fields.push({ field: this.distinctField(of), name: of, limit }) - 1;
    }
    return { name, entity: tracked, aggregation, window: input.window, series, distinct };
  }

  private entity(kind: EntityKind, field: string, name: string): EntityWindows {
    let entry = this.entities.find((e) => e.entity === kind);
    if (!entry) this.entities.push((entry = { entity: kind, field, windows: [] }));
    if (entry.field !== field) throw new Error(`${name}: entity ${kind} is keyed by ${entry.field} elsewhere in the set, not ${field}`);
    return entry;
  }

  /** The entity's series for this window and filter, added when new. */
  private series(entry: EntityWindows, window: string, filter: string | undefined): number {
    const at = entry.windows.findIndex((w) => w.name === window && w.filter?.expression === filter);
    if (at >= 0) return at;
    const spec = windowSpec(window);
    if (filter !== undefined) spec.filter = { bit: 1 << this.filter(filter), expression: filter };
    return entry.windows.push(spec) - 1;
  }

  private filter(expression: string): number {
    const at = this.filters.findIndex((f) => f.expression === expression);
    if (at >= 0) return at;
    if (this.filters.length >= MAX_FILTERS) throw new Error(`at most ${MAX_FILTERS} different filters in one feature set`);
    return this.filters.push(compileFilter(expression)) - 1;
  }

  private distinctField(field: string): number {
    const at = this.distinctFields.indexOf(field);
    return at >= 0 ? at : this.distinctFields.push(field) - 1;
  }
}

export const DEFAULT_FEATURE_SET: FeatureSet = buildFeatureSet();
