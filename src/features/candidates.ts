// The wide candidate set `train --search` starts from: every aggregation of the table
// (aggregations.ts) over every candidate window, for every built-in entity the history has.
// Generated, not listed, so a new aggregation in the table is a candidate without an edit here.
import { AGGREGATION_NAMES, AGGREGATIONS, type Aggregation } from './aggregations.js';
import { BUILT_IN_ENTITIES, featureName, LABEL_ENTITY, type BuiltInEntity, type FeatureInput } from './definitions.js';

export interface CandidateOptions {
  /** Windows of the aggregations over payments (count, sum, mean, …). */
  windows: readonly string[];
  /** Windows of the label-fed aggregations (labelled_count, fraud_count, fraud_rate). */
  labelWindows: readonly string[];
  /** Windows of the distinct counts (each entity's distinct values of every other entity). */
  distinctWindows: readonly string[];
}

/**
 * The handbook's customer windows (1, 7, 30 days) plus an hour for bursts; label windows the
 * same days (its terminal risk windows); distinct counts over a day (cards per device, accounts
 * per IP). About 100 features for five entities: the export and the search stay in minutes.
 */
export const DEFAULT_CANDIDATE_OPTIONS: CandidateOptions = { windows: ['1h', '1d', '7d', '30d'], labelWindows: ['1d', '7d', '30d'], distinctWindows: ['1d'] };

/** The built-in entities whose key field at least one of the events has, in the table's order. */
export function entitiesPresent(events: Iterable<Readonly<Record<string, unknown>>>): BuiltInEntity[] {
  const fields = Object.entries(BUILT_IN_ENTITIES) as [BuiltInEntity, string][];
  const seen = new Set<BuiltInEntity>();
  for (const event of events) {
    for (const [entity, field] of fields) if (event[field] !== undefined && event[field] !== null) seen.add(entity);
    if (seen.size === fields.length) break;
  }
  return fields.map(([entity]) => entity).filter((e) => seen.has(e));
}

/**
 * One definition per (entity, aggregation, window) the table allows: label aggregations only
 * for the entities labels name, `seconds_since_last` for all but the account (always in the
 * set), a distinct count of each other present entity. Entity-major, so a written subset reads
 * in the same order.
 */
export function candidateInputs(entities: readonly BuiltInEntity[], options: CandidateOptions = DEFAULT_CANDIDATE_OPTIONS): FeatureInput[] {
  return entities.flatMap((entity) => AGGREGATION_NAMES.flatMap((aggregation) => candidatesOf(entity, aggregation, entities, options)));
}

function candidatesOf(entity: BuiltInEntity, aggregation: Aggregation, entities: readonly BuiltInEntity[], options: CandidateOptions): FeatureInput[] {
  const kind = AGGREGATIONS[aggregation];
  switch (kind.source) {
    case 'previous-event':
      return entity === 'account' ? [] : [{ entity, aggregation }];
    case 'labels':
      return LABEL_ENTITY[entity] === undefined ? [] : options.labelWindows.map((window) => ({ entity, aggregation, window }));
    case 'payments':
      if (kind.needs !== 'distinct') return options.windows.map((window) => ({ entity, aggregation, window }));
      return entities.filter((of) => of !== entity).flatMap((of) => options.distinctWindows.map((window) => ({ entity, aggregation, window, of })));
  }
}

/** The candidates by feature name. */
export function byName(inputs: readonly FeatureInput[]): Map<string, FeatureInput> {
  return new Map(inputs.map((input) => [featureName(input), input]));
}
