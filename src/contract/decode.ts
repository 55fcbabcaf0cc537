// Raw message bytes to a JSON value, through the limits every input goes through, in `run`
// and `replay` alike: empty, too large, not UTF-8, nested too deep, not JSON, a key twice.
// Each refusal is an InvalidEventError whose code the dead letter (or the reject line) carries.
import { isUtf8 } from 'node:buffer';
import { InvalidEventError } from './errors.js';
import { parsedKeys, scanStructure } from './json-structure.js';

export interface EventLimits {
  /** MAX_EVENT_BYTES: the largest value accepted, in bytes. */
  maxBytes: number;
  /** MAX_EVENT_DEPTH: how deep objects and arrays may nest (a flat event is depth 1). */
  maxDepth: number;
}

/** The refusal of a value of `bytes` bytes; also for a line too long to be held (replay). */
export function tooLarge(bytes: number, maxBytes: number): InvalidEventError {
  return new InvalidEventError('FD_EVENT_TOO_LARGE', `value is ${bytes} bytes, limit ${maxBytes}`);
}

/**
 * A message value's JSON, or InvalidEventError. The checks run cheapest first, and each
 * before the step it protects: size before decoding, UTF-8 before decoding (Buffer#toString
 * would put U+FFFD in place of bad bytes, silently changing the event), depth before parsing.
 * Measured on 50,000 simulated events of 313 bytes: the UTF-8 check and the scan add about
 * 1.7 µs to the 3.6–5 µs of parsing and validating one (the worker spends 80–100 µs per event).
 */
export function decodeJson(value: Buffer | string | null, limits: EventLimits): unknown {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes === null || bytes.length === 0) throw new InvalidEventError('FD_EVENT_EMPTY', 'message has no value');
  if (bytes.length > limits.maxBytes) throw tooLarge(bytes.length, limits.maxBytes);
  if (!isUtf8(bytes)) throw new InvalidEventError('FD_EVENT_NOT_UTF8', 'value is not valid UTF-8');
  const text = bytes.toString('utf8');
  // Keys are only counted here; a value whose objects hold fewer keys than its text has a
  // repeated one, and only then is the text scanned again to find the first (the message names it).
  const structure = scanStructure(text, limits.maxDepth, false);
  if (structure.tooDeep) throw new InvalidEventError('FD_EVENT_TOO_DEEP', `nested deeper than ${limits.maxDepth} levels`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InvalidEventError('FD_EVENT_NOT_JSON', `not valid JSON: ${(err as Error).message}`);
  }
  const duplicateKey = parsedKeys(data) === structure.keys ? null : scanStructure(text, limits.maxDepth).duplicateKey;
  if (duplicateKey !== null) {
    throw new InvalidEventError('FD_EVENT_DUPLICATE_KEY', `an object has the key ${JSON.stringify(duplicateKey.slice(0, 100))} twice`);
  }
  return data;
}
