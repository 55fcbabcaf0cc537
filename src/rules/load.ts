// Reads a directory of YAML rules files, and the lists they reference, into a compiled rule
// set, with file and line for every error.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, isMap, isScalar, parseDocument, type Node } from 'yaml';
import { z } from 'zod';
import { RuleCompileError } from '../contract/errors.js';
import type { FeatureSet } from '../features/definitions.js';
import { compileRule } from './compile.js';
import { checkingEnvironment } from './environment.js';
import { loadLists, type RuleLists } from './lists.js';
import type { CompiledRule } from './rule.js';
import { RuleSet, type RuleSetOptions } from './rule-set.js';

const RULE_SCHEMA = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-_.]*$/, 'lower-case letters, digits, - _ .'),
  description: z.string().default(''),
  expression: z.string().min(1),
  action: z.enum(['allow', 'review', 'block', 'tag']),
  reason: z.string().default(''),
  priority: z.number().int().default(0),
  enabled: z.boolean().default(true),
  mode: z.enum(['active', 'shadow']).default('active'),
  scoreAdjustment: z.number().min(-1).max(1).default(0),
  maxHitRate: z.number().gt(0).max(1).optional(),
});

const FILE_SCHEMA = z.strictObject({
  version: z.union([z.string(), z.number()]).optional(),
  /** Event fields beyond the contract's that this file's rules read. */
  fields: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an event field name')).default([]),
  rules: z.array(z.unknown()),
});

export interface LoadOptions extends RuleSetOptions {
  /** Where the lists are (default `<dir>/lists`). */
  listsDir?: string;
}

/**
 * Loads every `*.yaml`/`*.yml` file in `dir`, sorted by name, and the lists. Throws
 * RuleCompileError on the first bad rule or list.
 */
export function loadRuleSet(dir: string, features: FeatureSet, options: LoadOptions = {}): RuleSet {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (err) {
    throw new RuleCompileError({ file: dir }, `cannot read rules directory: ${(err as Error).message}`);
  }
  const lists = loadLists(options.listsDir ?? join(dir, 'lists'));
  const hash = createHash('sha256').update(lists.digest);
  const rules: CompiledRule[] = [];
  const versions: string[] = [];
  for (const name of files) {
    const file = join(dir, name);
    const text = readFileSync(file, 'utf8');
    hash.update(name).update('\0').update(text);
    const parsed = parseRulesFile(file, text, features, lists);
    if (parsed.version !== undefined) versions.push(String(parsed.version));
    rules.push(...parsed.rules);
  }
  const seen = new Map<string, CompiledRule>();
  for (const rule of rules) {
    const first = seen.get(rule.id);
    if (first) throw new RuleCompileError({ file: rule.file, ruleId: rule.id, line: rule.line }, `duplicate rule id, first defined in ${first.file}:${first.line}`);
    seen.set(rule.id, rule);
  }
  const digest = hash.digest('hex').slice(0, 12);
  return new RuleSet(rules, versions.length > 0 ? `${versions.join('+')}@${digest}` : digest, lists, options);
}

export function parseRulesFile(file: string, text: string, features: FeatureSet, lists: RuleLists): { version?: string | number; rules: CompiledRule[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (node: Node | null | undefined): { line?: number; column?: number } => {
    if (!node?.range) return {};
    const pos = lines.linePos(node.range[0]);
    return { line: pos.line, column: pos.col };
  };
  const firstError = doc.errors[0];
  if (firstError) {
    const pos = lines.linePos(firstError.pos[0]);
    throw new RuleCompileError({ file, line: pos.line, column: pos.col }, `YAML: ${firstError.message.split('\n')[0] ?? ''}`);
  }
  const top = FILE_SCHEMA.safeParse(doc.toJS());
  if (!top.success) {
    const issue = top.error.issues[0];
    const key = issue?.path[0];
    const node = isMap(doc.contents) && key !== undefined ? doc.contents.get(key, true) : undefined;
    const pos = node && (isScalar(node) || isMap(node) || 'items' in node) ? at(node) : { line: 1 };
    throw new RuleCompileError({ file, ...pos }, `expected a mapping with \`rules:\` (a list), optional \`version:\` and \`fields:\` (a list of event field names): ${key !== undefined ? `${issue?.path.join('.')}: ` : ''}${issue?.message ?? ''}`);
  }
  const scope = { features, extraFields: top.data.fields, lists: [...lists.values.keys()] };
  const checker = checkingEnvironment(scope);
  const list = isMap(doc.contents) ? doc.contents.get('rules', true) : undefined;
  const items = list && 'items' in list ? (list.items as Node[]) : [];
  const rules = top.data.rules.map((raw, i) => {
    const node = items[i];
    const where = at(node);
    const id = typeof raw === 'object' && raw !== null && 'id' in raw ? String(raw.id) : undefined;
    const spec = RULE_SCHEMA.safeParse(raw);
    if (!spec.success) {
      const issue = spec.error.issues[0];
      const field = issue?.path[0];
      const fieldNode = isMap(node) && field !== undefined ? node.get(field, true) : undefined;
      const pos = fieldNode && (isScalar(fieldNode) || isMap(fieldNode)) ? at(fieldNode) : where;
      throw new RuleCompileError({ file, ruleId: id, ...pos }, `${field !== undefined ? `${String(field)}: ` : ''}${issue?.message ?? 'invalid rule'}`);
    }
    const exprNode = isMap(node) ? node.get('expression', true) : undefined;
    const exprPos = isScalar(exprNode) ? at(exprNode) : where;
    return compileRule({ spec: spec.data, file, line: exprPos.line ?? 0, column: exprPos.column ?? 0 }, scope, checker);
  });
  return { version: top.data.version, rules };
}
