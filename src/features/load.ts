// Reads a feature-definitions file (YAML) into a feature set, with file, line and column for
// every error. Each definition names an entity, an aggregation and a window (and optionally a
// filter, the field a distinct count counts, and a name); the feature is called
// `<entity>.<aggregation>_<window>` unless it is named, the name rules and models use.
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { z } from 'zod';
import { FeatureDefinitionError } from '../contract/errors.js';
import { AGGREGATION_NAMES } from './aggregations.js';
import { DefinitionProblem, FeatureSetBuilder, type FeatureInput, type FeatureSet } from './definitions.js';
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
  return parseFeatureSet(file, readDefinitions(file));
}

/** A file's definitions as written, each checked as loadFeatureSet checks it (`train --search` adds them to its candidates). */
export function loadFeatureInputs(file: string): FeatureInput[] {
  return parseDefinitions(file, readDefinitions(file)).inputs;
}

function readDefinitions(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new FeatureDefinitionError({ file }, `cannot read the feature definitions: ${(err as Error).message}`);
  }
}

type Fail = (node: Node | null | undefined, reason: string, columnOffset?: number) => never;

export function parseFeatureSet(file: string, text: string): FeatureSet {
  return parseDefinitions(file, text).set;
}

function parseDefinitions(file: string, text: string): { inputs: FeatureInput[]; set: FeatureSet } {
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
  // Each definition's shape here, what it means in the builder (definitions.ts), in file order.
  const builder = new FeatureSetBuilder();
  const inputs: FeatureInput[] = [];
  (top.data?.features ?? []).forEach((raw, i) => {
    const node = items[i];
    const at = (key: string): Node | null | undefined => (isMap(node) ? (node.get(key, true) ?? node) : node);
    const parsed = DEFINITION.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path[0];
      return fail(field !== undefined ? at(String(field)) : node, `feature ${i + 1}: ${field !== undefined ? `${String(field)}: ` : ''}${issue?.message ?? 'invalid'}`);
    }
    try {
      builder.add(parsed.data);
      inputs.push(parsed.data);
    } catch (err) {
      if (!(err instanceof DefinitionProblem)) throw err;
      const where = err.key === null ? node : at(err.key);
      // A filter's error points into its expression, after its opening quote if it has one.
      const quoted = isScalar(where) && (where.type === 'QUOTE_DOUBLE' || where.type === 'QUOTE_SINGLE') ? 1 : 0;
      fail(where, `feature ${i + 1}: ${err.message}`, err.filterOffset === undefined ? 0 : err.filterOffset + quoted);
    }
  });
  return { inputs, set: builder.build() };
}
