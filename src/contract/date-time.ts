// The schema's `date-time` format, as ajv-formats checks it, with a fast path for the form
// nearly every event has (2026-01-08T10:00:00.123Z, or an offset like +02:00). ajv-formats
// splits each timestamp and runs two capturing regexes over it: about 700 bytes of garbage
// and most of a microsecond per event, on the thread that parses. The fast path only ever
// answers "valid", and only where ajv-formats' own checks surely pass; anything else (a
// space or a lowercase t, a leap second, an out-of-range field) is left to ajv-formats, so
// what is accepted and refused does not change.
import { createRequire } from 'node:module';

interface FormatDefinition {
  validate: (value: string) => boolean;
  compare: (a: string, b: string) => number | undefined;
}

const require = createRequire(import.meta.url);
const { fullFormats } = require('ajv-formats/dist/formats') as { fullFormats: Record<string, FormatDefinition> };
const original = fullFormats['date-time'] as FormatDefinition;

/** No captures: testing it allocates nothing. */
const CANONICAL = /^\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/;
const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const ZERO = 48;

const two = (s: string, at: number): number => (s.charCodeAt(at) - ZERO) * 10 + (s.charCodeAt(at + 1) - ZERO);

/** True only when ajv-formats' date-time surely accepts `s` (a canonical timestamp with every field in range). */
function surelyValid(s: string): boolean {
  if (!CANONICAL.test(s)) return false;
  const year = two(s, 0) * 100 + two(s, 2);
  const month = two(s, 5);
  const day = two(s, 8);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : (DAYS[month] as number))) return false;
  if (two(s, 11) > 23 || two(s, 14) > 59 || two(s, 17) > 59) return false;
  if (s.charCodeAt(s.length - 1) !== 0x5a /* Z */ && (two(s, s.length - 5) > 23 || two(s, s.length - 2) > 59)) return false;
  return true;
}

export const DATE_TIME_FORMAT: FormatDefinition = {
  validate: (s) => surelyValid(s) || original.validate(s),
  compare: original.compare,
};

/** ajv-formats' own check, for the tests that compare the two. */
export const originalDateTime = original.validate;
