// Feature filters: CEL expressions over the event alone (`event.channel == 'ecom'`) that pick
// the payments a windowed feature counts. Compiled once per feature set; per event, the
// filters it passes become a bit mask the store reads (EntityEvent.mask).
import { Environment } from '@marcbachmann/cel-js';
import { celErrorOffset, celMessage } from '../contract/cel-error.js';
import type { TransactionEvent } from '../contract/transaction.js';

/** Bits 0..29 of a mask: more filters than this in one feature set are refused. */
export const MAX_FILTERS = 30;

export interface CompiledFilter {
  expression: string;
  /** Whether the event passes; an expression that fails on it (a missing field, say) does not pass. */
  passes(event: TransactionEvent): boolean;
}

/** Why a filter cannot be used: the cause, and where in the expression (0-based) when known. */
export class FilterSyntaxError extends Error {
  constructor(
    readonly cause_: string,
    readonly offset?: number,
  ) {
    super(cause_);
    this.name = 'FilterSyntaxError';
  }
}

/** The input of every filter evaluation, reused: evaluations are synchronous, one at a time. */
const context: { event: TransactionEvent | null } = { event: null };

const environment = new Environment({ unlistedVariablesAreDyn: false }).registerVariable('event', 'map');

/** Compiles a filter, or throws FilterSyntaxError (syntax, an unknown variable, not a bool). */
export function compileFilter(expression: string): CompiledFilter {
  let program: ReturnType<Environment['parse']>;
  try {
    program = environment.parse(expression);
  } catch (err) {
    throw new FilterSyntaxError(`filter: ${celMessage(err)}`, celErrorOffset(err));
  }
  const checked = program.check();
  if (!checked.valid) throw new FilterSyntaxError(`filter: ${celMessage(checked.error)} (a filter sees only \`event\`)`, celErrorOffset(checked.error));
  if (checked.type !== 'bool' && checked.type !== 'dyn') throw new FilterSyntaxError(`filter: must be a bool, it is ${checked.type}`);
  return {
    expression,
    passes(event: TransactionEvent): boolean {
      context.event = event;
      try {
        return program(context) === true;
      } catch {
        return false;
      }
    },
  };
}

/** The bits (1 << i for filter i) of the filters the event passes. */
export function filterMask(filters: readonly CompiledFilter[], event: TransactionEvent): number {
  let mask = 0;
  for (let i = 0; i < filters.length; i++) if ((filters[i] as CompiledFilter).passes(event)) mask |= 1 << i;
  return mask;
}
