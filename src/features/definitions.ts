// The feature set: which entities are tracked over which windows, and the named
// features (`<entity>.<aggregation>_<window>`) the model and rules see.
import { AGGREGATIONS, type Aggregation } from './aggregations.js';
import type { WindowSpec } from './windows.js';
import { windowSpec } from './windows.js';
import { compileFilter, FilterSyntaxError, MAX_FILTERS, type CompiledFilter } from './filters.js';

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

/**
 * What is wrong with a definition, and the key of it the problem is about (null: the whole
 * definition); for a filter that does not compile, where in its expression. load.ts reports it
 * at that key's line and column.
 */
export class DefinitionProblem extends Error {
  constructor(
    readonly key: keyof FeatureInput | null,
    message: string,
    readonly filterOffset?: number,
  ) {
    super(message);
    this.name = 'DefinitionProblem';
  }
}

/** Builds a feature set from definitions (DEFAULT_FEATURE_INPUTS by default); throws at the first that is wrong. */
export function buildFeatureSet(inputs: readonly FeatureInput[] = DEFAULT_FEATURE_INPUTS): FeatureSet {
  const builder = new FeatureSetBuilder();
  inputs.forEach((input, i) => {
    try {
      builder.add(input);
    } catch (err) {
      if (err instanceof DefinitionProblem) throw new Error(`feature ${i + 1} (${featureName(input)}): ${err.message}`, { cause: err });
      throw err;
    }
  });
  return builder.build();
}

/**
 * Checks each definition against the ones before it, and collects the entities, their series,
 * the filters and the distinct fields the set's features need. Every check of what a
 * definition means is here, once: load.ts only parses the file and says where a problem is.
 */
export class FeatureSetBuilder {
  private readonly entities: EntityWindows[] = [];
  private readonly filters: CompiledFilter[] = [];
  private readonly distinctFields: string[] = [];
  private readonly defs: FeatureDefinition[] = [];

  /** Adds a definition, or throws DefinitionProblem (and adds nothing). */
  add(input: FeatureInput): FeatureDefinition {
    checkAlone(input);
    const { aggregation } = input;
    const name = featureName(input);
    if ((EVENT_FEATURES as readonly string[]).includes(name)) throw new DefinitionProblem(null, `${name} is always in the set`);
    const first = this.defs.findIndex((d) => d.name === name);
    if (first >= 0) throw new DefinitionProblem(null, `${name} is defined twice (first as feature ${first + 1})`);
    const tracked = (isLabelAggregation(aggregation) ? LABEL_ENTITY[input.entity] : input.entity) as EntityKind;
    const field = fieldOf(input.entity) === input.entity ? (input.field as string) : fieldOf(input.entity);
    const other = this.entities.find((e) => e.entity === tracked);
    if (other !== undefined && other.field !== field) throw new DefinitionProblem('field', `entity ${input.entity} is keyed by ${other.field} in an earlier feature, not ${field}`);
    const filter = input.filter === undefined ? undefined : this.filter(input.filter);
    const entry = other ?? { entity: tracked, field, windows: [] };
    if (other === undefined) this.entities.push(entry);
    const def = isWindowless(aggregation) ? { name, entity: tracked, aggregation, window: '', series: -1, distinct: -1 } : this.windowed(input, name, entry, filter);
    this.defs.push(def);
    return def;
  }

  build(): FeatureSet {
    const entities = this.entities.some((e) => e.entity === 'account') ? this.entities : [{ entity: 'account', field: 'accountId', windows: [] }, ...this.entities];
    return { names: [...EVENT_FEATURES, ...this.defs.map((d) => d.name)], windowed: this.defs, entities, filters: this.filters, distinctFields: this.distinctFields };
  }

  private windowed(input: FeatureInput, name: string, entry: EntityWindows, filter: number | undefined): FeatureDefinition {
    const window = input.window as string;
    const series = this.series(entry, window, filter);
    const spec = entry.windows[series] as WindowSpec;
    const { needs } = AGGREGATIONS[input.aggregation];
    if (needs === 'extremes') spec.extremes = true;
    let distinct = -1;
    if (needs === 'distinct') {
      const of = fieldOf(input.of as string);
      const limit = input.limit ?? DEFAULT_DISTINCT_LIMIT;
      const fields = (spec.distinct ??= []);
      distinct = fields.findIndex((d) => d.name === of && d.limit === limit);
      if (distinct < 0) distinct = fields.push({ field: this.distinctField(of), name: of, limit }) - 1;
    }
    return { name, entity: entry.entity, aggregation: input.aggregation, window, series, distinct };
  }

  /** The entity's series for this window and filter (the filter's index), added when new. */
  private series(entry: EntityWindows, window: string, filter: number | undefined): number {
    const expression = filter === undefined ? undefined : this.filters[filter]?.expression;
    const at = entry.windows.findIndex((w) => w.name === window && w.filter?.expression === expression);
    if (at >= 0) return at;
    const spec = windowSpec(window);
    if (filter !== undefined && expression !== undefined) spec.filter = { bit: 1 << filter, expression };
    return entry.windows.push(spec) - 1;
  }

  /** The filter's index in the set, compiled and added when new. */
  private filter(expression: string): number {
    const at = this.filters.findIndex((f) => f.expression === expression);
    if (at >= 0) return at;
    if (this.filters.length >= MAX_FILTERS) throw new DefinitionProblem('filter', `at most ${MAX_FILTERS} different filters in one feature set`);
    try {
      return this.filters.push(compileFilter(expression)) - 1;
    } catch (err) {
      if (err instanceof FilterSyntaxError) throw new DefinitionProblem('filter', err.message, err.offset);
      throw err;
    }
  }

  private distinctField(field: string): number {
    const at = this.distinctFields.indexOf(field);
    return at >= 0 ? at : this.distinctFields.push(field) - 1;
  }
}

/** The checks of one definition's keys against each other, each about the key it names. */
function checkAlone(input: FeatureInput): void {
  const { entity, aggregation } = input;
  const builtIn = Object.hasOwn(BUILT_IN_ENTITIES, entity);
  if (entity === 'event') throw new DefinitionProblem('entity', "entity: event is the name of the event's own features");
  if (!builtIn && input.field === undefined) {
    throw new DefinitionProblem('entity', `entity: ${entity} is not built in (${Object.keys(BUILT_IN_ENTITIES).join(', ')}); name the event field that keys it with \`field:\``);
  }
  if (builtIn && input.field !== undefined) throw new DefinitionProblem('field', `field: ${entity} is keyed by ${fieldOf(entity)}; \`field\` is for entities that are not built in`);
  const windowless = isWindowless(aggregation);
  if (windowless === (input.window !== undefined)) throw new DefinitionProblem('window', windowless ? `${aggregation} takes no window` : 'window: required');
  if (isLabelAggregation(aggregation) && LABEL_ENTITY[entity] === undefined) {
    throw new DefinitionProblem('entity', `${aggregation} is computed from labels, which name accounts and merchants, not ${entity}s`);
  }
  const distinct = countsDistinct(aggregation);
  if (distinct && input.of === undefined) throw new DefinitionProblem('aggregation', `${aggregation} needs \`of\`: the entity or field whose distinct values it counts`);
  if (!distinct && input.of !== undefined) throw new DefinitionProblem('of', 'of: only a distinct count takes `of`');
  if (!distinct && input.limit !== undefined) throw new DefinitionProblem('limit', 'limit: only a distinct count takes `limit`');
  if (input.of !== undefined && fieldOf(input.of) === (builtIn ? fieldOf(entity) : input.field)) {
    throw new DefinitionProblem('of', `of: ${input.of} is the entity's own key, so its distinct count is always 1`);
  }
  if (input.filter !== undefined) {
    if (!takesFilter(aggregation)) throw new DefinitionProblem('filter', `filter: ${aggregation} takes no filter`);
    if (input.name === undefined) throw new DefinitionProblem('filter', `a filtered feature needs a \`name\` (for example small_${featureName(input).split('.')[1] ?? ''})`);
  }
}

export const DEFAULT_FEATURE_SET: FeatureSet = buildFeatureSet();
