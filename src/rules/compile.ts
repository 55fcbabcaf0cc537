// Compiles rule specs into CEL programs once, refusing bad rules with file, rule id, line and column.
import { Environment } from '@marcbachmann/cel-js';
import { RuleCompileError } from '../contract/errors.js';
import type { FeatureSet } from '../features/definitions.js';
import type { CompiledRule, RuleInput, RuleSpec } from './rule.js';

export interface RuleSource {
  spec: RuleSpec;
  file: string;
  /** 1-based line of the rule's `expression` value. */
  line: number;
  column: number;
}

function environment(): Environment {
  return new Environment({ unlistedVariablesAreDyn: false })
    .registerVariable('event', 'map')
    .registerVariable('features', 'map')
    .registerVariable('score', 'double');
}

const FEATURE_REF = /\bfeatures\.([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)/g;

export function compileRule(source: RuleSource, features: FeatureSet): CompiledRule {
  const { spec, file, line, column } = source;
  const fail = (cause: string, offset = 0): never => {
    throw new RuleCompileError({ file, ruleId: spec.id, line, column: column + offset }, cause);
  };
  const known = new Set(features.names);
  for (const match of spec.expression.matchAll(FEATURE_REF)) {
    const name = `${match[1]}.${match[2]}`;
    if (!known.has(name)) fail(`unknown feature ${name}; known: ${[...known].join(', ')}`, match.index);
  }
  let program: ReturnType<Environment['parse']>;
  try {
    program = environment().parse(spec.expression);
    const checked = program.check();
    if (!checked.valid) fail(`type error: ${checked.error?.message.split('\n')[0] ?? 'invalid'}`);
    if (checked.type !== 'bool' && checked.type !== 'dyn') fail(`expression must be a bool, it is ${checked.type}`);
  } catch (err) {
    if (err instanceof RuleCompileError) throw err;
    fail(celMessage(err));
  }
  const evaluate = (input: RuleInput): unknown => {
    const result: unknown = program(input);
    return result;
  };
  return { ...spec, file, line, evaluate };
}

function celMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}
