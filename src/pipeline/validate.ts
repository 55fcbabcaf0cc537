// Every input of a batch through the contract's one validation: the valid ones parsed, the
// others rejections with a code (dead letters live, reject lines offline), never exceptions.
import { InvalidEventError } from '../contract/errors.js';

export interface Rejected {
  index: number;
  error: InvalidEventError;
}

/** Parses each input with `parse`; an InvalidEventError becomes a rejection, anything else is a bug and is thrown. */
export function validateEach<T, V>(inputs: readonly T[], parse: (input: T) => V): { valid: { index: number; value: V }[]; rejected: Rejected[] } {
  const valid: { index: number; value: V }[] = [];
  const rejected: Rejected[] = [];
  inputs.forEach((input, index) => {
    try {
      valid.push({ index, value: parse(input) });
    } catch (err) {
      if (!(err instanceof InvalidEventError)) throw err;
      rejected.push({ index, error: err });
    }
  });
  return { valid, rejected };
}
