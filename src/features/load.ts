// Reads a feature-definitions file (YAML) into a feature set, with file, line and column for
// every error. Each definition names an entity, an aggregation and a window (and optionally a
// filter, the field a distinct count counts, and a name); the feature is called
// `<entity>.<aggregation>_<window>` unless it is named, the name rules and models use.
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { z } from 'zod';
import { FeatureDefinitionError } from '../contract/errors.js';
import { AGGREGATION_NAMES } from './aggregations.js';
import { BUILT_IN_ENTITIES, buildFeatureSet, countsDistinct, featureName, fieldOf, isLabelAggregation, isWindowless, LABEL_ENTITY, takesFilter, type FeatureInput, type FeatureSet } from './definitions.js';
import { compileFilter, FilterSyntaxError, MAX_FILTERS } from './filters.js';
import { parseDuration } from './windows.js';

const MIN_WINDOW_MS = 60_000;
const MAX_WINDOW_MS = 90 * 86_400_000;
const MAX_DISTINCT_LIMIT = 1000;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

const DEFINITION = z.strictObject({
  entity: z.string().regex(/^[a-z][a-zA-Z0-9]*$/, 'a name of letters and digits, such as account, ip or bin'),
  field: z.string().regex(FIELD, 'an event field name, such as cardBin').optional(),
  aggregation: z.enum(AGGREGATION_NAMES),
  window: z
    .string()
    .regex(/^[1-9]\d*[mhd]$/, 'a whole number of minutes, hours or days, such as 10m, 1h or 7d')
    .refine((w) => parseDuration(w) >= MIN_WINDOW_MS && parseDuration(w) <= MAX_WINDOW_MS, 'between 1m and 90d')
    .optional(),
  filter: z.string().min(1).optional(),
  of: z.string().regex(FIELD, 'a built-in entity (account, merchant, card, device, ip) or an event field').optional(),
  limit: z.number().int().min(1).max(MAX_DISTINCT_LIMIT).optional(),
  name: z.string().regex(/^[a-z][a-zA-Z0-9_]*$/, 'letters, digits and _, starting with a lower-case letter, such as small_count_1h').optional(),
});

const FILE = z.strictObject({ version: z.union([z.string(), z.number()]).optional(), features: z.array(z.unknown()).min(1, 'at least one feature') });

export function loadFeatureSet(file: string): FeatureSet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FeatureDefinitionError({ file }, `cannot read the feature definitions: ${(err as Error).message}`);
  }
  return parseFeatureSet(file, text);
}

type Fail = (node: Node | null | undefined, reason: string, columnOffset?: number) => never;

export function parseFeatureSet(file: string, text: string): FeatureSet {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const fail: Fail = (node, reason, columnOffset = 0) => {
    const pos = node?.range ? lines.linePos(node.range[0]) : undefined;
    throw new FeatureDefinitionError({ file, line: pos?.line ?? 1, column: pos ? pos.col + columnOffset : undefined }, reason);
  };
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = lines.linePos(yamlError.pos[0]);
    throw new FeatureDefinitionError({ file, line: pos.line, column: pos.col }, `YAML: ${yamlError.message.split('\n')[0] ?? ''}`);
  }
  const top = FILE.safeParse(doc.toJS());
  if (!top.success) fail(null, `expected a mapping with \`features:\` (a list) and optional \`version:\`: ${top.error.issues[0]?.message ?? ''}`);
  const list = isMap(doc.contents) ? doc.contents.get('features', true) : undefined;
  const items = isSeq(list) ? (list.items as Node[]) : [];
  const seen = new Map<string, number>();
  const keyedBy = new Map<string, string>();
  const filters = new Set<string>();
  const inputs = (top.data?.features ?? []).map((raw, i): FeatureInput => {
    const node = items[i];
    const at = (key: string): Node | null | undefined => (isMap(node) ? ((node.get(key, true)) ?? node) : node);
    const parsed = DEFINITION.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path[0];
      return fail(field !== undefined ? at(String(field)) : node, `feature ${i + 1}: ${field !== undefined ? `${String(field)}: ` : ''}${issue?.message ?? 'invalid'}`);
    }
    const input = parsed.data;
    checkDefinition(input, i + 1, at, fail);
    const name = featureName(input);
    if (name === 'account.seconds_since_last') fail(node, `feature ${i + 1}: ${name} is always in the set`);
    const first = seen.get(name);
    if (first !== undefined) fail(node, `${name} is defined twice (first as feature ${first})`);
    seen.set(name, i + 1);
    const field = fieldOf(input.entity) === input.entity ? (input.field ?? '') : fieldOf(input.entity);
    const other = keyedBy.get(input.entity);
    if (other !== undefined && other !== field) fail(at('field'), `feature ${i + 1}: entity ${input.entity} is keyed by ${other} in an earlier feature, not ${field}`);
    keyedBy.set(input.entity, field);
    if (input.filter !== undefined) filters.add(input.filter);
    if (filters.size > MAX_FILTERS) fail(at('filter'), `feature ${i + 1}: at most ${MAX_FILTERS} different filters in one file`);
    return input;
  });
  try {
    return buildFeatureSet(inputs);
  } catch (err) {
    return fail(null, (err as Error).message);
  }
}

/** The checks across a definition's keys, each reported at the key it is about. */
function checkDefinition(input: FeatureInput, n: number, at: (key: string) => Node | null | undefined, fail: Fail): void {
  const { entity, aggregation } = input;
  const builtIn = Object.hasOwn(BUILT_IN_ENTITIES, entity);
  if (entity === 'event') fail(at('entity'), `feature ${n}: entity: event is the name of the event's own features`);
  if (!builtIn && input.field === undefined) {
    fail(at('entity'), `feature ${n}: entity: ${entity} is not built in (${Object.keys(BUILT_IN_ENTITIES).join(', ')}); name the event field that keys it with \`field:\``);
  }
  if (builtIn && input.field !== undefined) fail(at('field'), `feature ${n}: field: ${entity} is keyed by ${fieldOf(entity)}; \`field\` is for entities that are not built in`);
  const windowless = isWindowless(aggregation);
  if (windowless === (input.window !== undefined)) fail(at('window'), `feature ${n}: ${windowless ? `${aggregation} takes no window` : 'window: required'}`);
  if (isLabelAggregation(aggregation) && LABEL_ENTITY[entity] === undefined) {
    fail(at('entity'), `feature ${n}: ${aggregation} is computed from labels, which name accounts and merchants, not ${entity}s`);
  }
  const distinct = countsDistinct(aggregation);
  if (distinct && input.of === undefined) fail(at('aggregation'), `feature ${n}: ${aggregation} needs \`of\`: the entity or field whose distinct values it counts`);
  if (!distinct && input.of !== undefined) fail(at('of'), `feature ${n}: of: only a distinct count takes \`of\``);
  if (!distinct && input.limit !== undefined) fail(at('limit'), `feature ${n}: limit: only a distinct count takes \`limit\``);
  if (input.of !== undefined && fieldOf(input.of) === (builtIn ? fieldOf(entity) : input.field)) {
    fail(at('of'), `feature ${n}: of: ${input.of} is the entity's own key, so its distinct count is always 1`);
  }
  if (input.filter !== undefined) checkFilter(input, n, at, fail);
}

function checkFilter(input: FeatureInput, n: number, at: (key: string) => Node | null | undefined, fail: Fail): void {
  const { aggregation } = input;
  if (!takesFilter(aggregation)) fail(at('filter'), `feature ${n}: filter: ${aggregation} takes no filter`);
  if (input.name === undefined) fail(at('filter'), `feature ${n}: a filtered feature needs a \`name\` (for example small_${featureName(input).split('.')[1] ?? ''})`);
  try {
    compileFilter(input.filter ?? '');
  } catch (err) {
    if (!(err instanceof FilterSyntaxError)) throw err;
    const node = at('filter');
    const quoted = isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') ? 1 : 0;
    fail(node, `feature ${n}: ${err.message}`, err.offset === undefined ? 0 : err.offset + quoted);
  }
}
