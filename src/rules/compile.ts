// Compiles rule specs into CEL programs once, refusing bad rules with file, rule id, line and
// column: a syntax error, an unknown event field, feature or list, a type error, a reason
// placeholder that names nothing, an expression that is not a bool.
import type { Environment } from '@marcbachmann/cel-js';
import { celErrorOffset, celMessage } from '../contract/cel-error.js';
import { RuleCompileError } from '../contract/errors.js';
import { EVENT_FIELD_TYPES, RUNNING_ENVIRONMENT, type CheckScope } from './environment.js';
import type { CompiledRule, InputPath, ReasonTemplate, RuleContext, RuleSpec } from './rule.js';

export interface RuleSource {
  spec: RuleSpec;
  file: string;
  /** 1-based line and column of the rule's `expression` value. */
  line: number;
  column: number;
}

const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
const FEATURE_REF = new RegExp(`\\bfeatures\\.(${IDENT})\\.(${IDENT})`, 'g');
const EVENT_REF = new RegExp(`\\bevent\\.(${IDENT})`, 'g');
const LIST_REF = new RegExp(`\\blists\\.(${IDENT})`, 'g');
const SCORE_REF = /\bscore\b/;
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;

/** The expression with its string literals blanked (same length), so names inside them are not read as references. */
function withoutStrings(expression: string): string {
  return expression.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, (s) => ' '.repeat(s.length));
}

export function compileRule(source: RuleSource, scope: CheckScope, checker: Environment): CompiledRule {
  const { spec, file, line, column } = source;
  const fail = (cause: string, offset = 0): never => {
    throw new RuleCompileError({ file, ruleId: spec.id, line, column: column + offset }, cause);
  };
  const code = withoutStrings(spec.expression);
  const known = new Set(scope.features.names);
  const fields = new Set([...Object.keys(EVENT_FIELD_TYPES), ...scope.extraFields]);
  const lists = new Set(scope.lists);
  for (const m of code.matchAll(FEATURE_REF)) {
    if (!known.has(`${m[1]}.${m[2]}`)) fail(`unknown feature ${m[1]}.${m[2]}; known: ${[...known].join(', ')}`, m.index);
  }
  for (const m of code.matchAll(EVENT_REF)) {
    if (!fields.has(m[1] as string)) fail(`unknown event field ${m[1]}; the contract's fields are ${Object.keys(EVENT_FIELD_TYPES).join(', ')}; declare others in the file's \`fields:\``, m.index);
  }
  for (const m of code.matchAll(LIST_REF)) {
    if (!lists.has(m[1] as string)) fail(`unknown list ${m[1]}; ${lists.size > 0 ? `loaded: ${[...lists].join(', ')}` : 'no lists are loaded'} (lists are <name>.txt files in the lists directory)`, m.index);
  }
  try {
    const checked = checker.parse(spec.expression).check();
    if (!checked.valid) fail(`type error: ${celMessage(checked.error)}`, celErrorOffset(checked.error));
    if (checked.type !== 'bool' && checked.type !== 'dyn') fail(`expression must be a bool, it is ${checked.type}`);
  } catch (err) {
    if (err instanceof RuleCompileError) throw err;
    fail(celMessage(err), celErrorOffset(err));
  }
  const program = RUNNING_ENVIRONMENT.parse(spec.expression);
  const reasonTemplate = compileReason(spec, known, fields, fail);
  return { ...spec, file, line, evaluate: (context: RuleContext): unknown => program(context), reasonTemplate, inputs: referencedInputs(code) };
}

/** The event fields, features and score an expression reads, in the order they appear. */
function referencedInputs(code: string): { key: string; path: InputPath }[] {
  const found = new Map<string, { key: string; path: InputPath }>();
  const refs = [...code.matchAll(FEATURE_REF)].map((m) => ({ at: m.index, path: ['features', m[1] as string, m[2] as string] }));
  refs.push(...[...code.matchAll(EVENT_REF)].map((m) => ({ at: m.index, path: ['event', m[1] as string] })));
  const score = SCORE_REF.exec(code);
  if (score) refs.push({ at: score.index, path: ['score'] });
  refs.sort((a, b) => a.at - b.at);
  for (const r of refs) found.set(r.path.join('.'), { key: r.path.join('.'), path: r.path });
  return [...found.values()];
}

function compileReason(spec: RuleSpec, features: Set<string>, fields: Set<string>, fail: (cause: string) => never): ReasonTemplate {
  const template = spec.reason || spec.description || spec.id;
  const literals: string[] = [];
  const paths: InputPath[] = [];
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    const path = (m[1] as string).split('.');
    const [root, a, b] = path;
    const valid = (root === 'score' && path.length === 1) || (root === 'event' && path.length === 2 && fields.has(a as string)) || (root === 'features' && path.length === 3 && features.has(`${a}.${b}`));
    if (!valid) fail(`reason: {{${m[1]}}} names no event field, feature or score`);
    literals.push(template.slice(last, m.index));
    paths.push(path);
    last = m.index + m[0].length;
  }
  literals.push(template.slice(last));
  return { literals, paths };
}
