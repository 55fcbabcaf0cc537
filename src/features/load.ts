// Reads a feature-definitions file (YAML) into a feature set, with file, line and column for
// every error. Each definition names an entity, an aggregation and a window; the feature is
// called `<entity>.<aggregation>_<window>`, the name rules and models use.
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isSeq, parseDocument, type Node } from 'yaml';
import { z } from 'zod';
import { FeatureDefinitionError } from '../contract/errors.js';
import { buildFeatureSet, LABEL_AGGREGATIONS, LABEL_ENTITY, type Aggregation, type FeatureSet, type TransactionEntity } from './definitions.js';
import { parseDuration } from './windows.js';

const AGGREGATIONS = ['count', 'sum', 'mean', 'std', 'amount_ratio', 'seconds_since_last', ...LABEL_AGGREGATIONS] as const satisfies readonly Aggregation[];
const MIN_WINDOW_MS = 60_000;
const MAX_WINDOW_MS = 90 * 86_400_000;

const DEFINITION = z.strictObject({
  entity: z.enum(['account', 'merchant', 'card', 'device'] as const satisfies readonly TransactionEntity[]),
  aggregation: z.enum(AGGREGATIONS),
  window: z
    .string()
    .regex(/^[1-9]\d*[mhd]$/, 'a whole number of minutes, hours or days, such as 10m, 1h or 7d')
    .refine((w) => parseDuration(w) >= MIN_WINDOW_MS && parseDuration(w) <= MAX_WINDOW_MS, 'between 1m and 90d')
    .optional(),
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

export function parseFeatureSet(file: string, text: string): FeatureSet {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const fail = (node: Node | null | undefined, reason: string): never => {
    const pos = node?.range ? lines.linePos(node.range[0]) : undefined;
    throw new FeatureDefinitionError({ file, line: pos?.line ?? 1, column: pos?.col }, reason);
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
  const defs = (top.data?.features ?? []).map((raw, i): [TransactionEntity, Aggregation, string] => {
    const node = items[i];
    const parsed = DEFINITION.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path[0];
      const fieldNode = isMap(node) && field !== undefined ? (node.get(field, true) as Node | undefined) : undefined;
      return fail(fieldNode ?? node, `feature ${i + 1}: ${field !== undefined ? `${String(field)}: ` : ''}${issue?.message ?? 'invalid'}`);
    }
    const { entity, aggregation } = parsed.data;
    const windowless = aggregation === 'seconds_since_last';
    if (windowless === (parsed.data.window !== undefined)) {
      fail(isMap(node) ? ((node.get('window', true)) ?? node) : node, `feature ${i + 1}: ${windowless ? `${aggregation} takes no window` : 'window: required'}`);
    }
    const window = parsed.data.window ?? '';
    if ((LABEL_AGGREGATIONS as readonly string[]).includes(aggregation) && LABEL_ENTITY[entity] === undefined) {
      fail(isMap(node) ? (node.get('entity', true)) : node, `feature ${i + 1}: ${aggregation} is computed from labels, which name accounts and merchants, not ${entity}s`);
    }
    const name = windowless ? `${entity}.${aggregation}` : `${entity}.${aggregation}_${window}`;
    if (name === 'account.seconds_since_last') fail(node, `feature ${i + 1}: ${name} is always in the set`);
    const first = seen.get(name);
    if (first !== undefined) fail(node, `${name} is defined twice (first as feature ${first})`);
    seen.set(name, i + 1);
    return [entity, aggregation, window];
  });
  return buildFeatureSet(defs);
}
