// The fuzz generator (test/helpers/malformed-events.ts) is deterministic, covers every kind,
// stays one line per value, and each of its events is refused by the contract with the code
// the generator expects, and never with anything but an InvalidEventError.
import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../../src/contract/errors.js';
import { parseTransaction } from '../../src/contract/transaction.js';
import { MALFORMED_KINDS, malformedEvents } from '../helpers/malformed-events.js';

const LIMITS = { maxBytes: 16_384, maxDepth: 32 };

function refusal(value: Buffer | null): string {
  try {
    parseTransaction(value, LIMITS);
    return 'accepted';
  } catch (err) {
    if (!(err instanceof InvalidEventError)) throw err;
    return err.code;
  }
}

describe('malformed event generator', () => {
  const events = malformedEvents(10_000, { seed: 7, ...LIMITS });

  it('gives the same bytes for the same seed, other bytes for another', () => {
    const again = malformedEvents(10_000, { seed: 7, ...LIMITS });
    expect(again.map((e) => e.value?.toString('base64') ?? null)).toEqual(events.map((e) => e.value?.toString('base64') ?? null));
    const other = malformedEvents(100, { seed: 8, ...LIMITS });
    expect(other.map((e) => e.value?.toString('base64'))).not.toEqual(events.slice(0, 100).map((e) => e.value?.toString('base64')));
  });

  it('makes every kind, with values that are one line each', () => {
    expect(new Set(events.map((e) => e.kind))).toEqual(new Set(MALFORMED_KINDS));
    expect(events.filter((e) => e.value !== null && (e.value.includes(0x0a) || e.value.includes(0x0d)))).toEqual([]);
    expect(events.filter((e) => e.kind === 'oversize').every((e) => (e.value?.length ?? 0) > LIMITS.maxBytes)).toBe(true);
    expect(events.filter((e) => e.kind !== 'oversize').every((e) => (e.value?.length ?? 0) <= LIMITS.maxBytes)).toBe(true);
  });

  it('makes nothing the contract accepts, and each refusal has the expected code', () => {
    const mismatches = events.map((e, i) => ({ i, kind: e.kind, expected: e.code, got: refusal(e.value) })).filter((m) => m.got !== m.expected);
    expect(mismatches.slice(0, 5)).toEqual([]);
    // Every refusal code is exercised.
    expect(new Set(events.map((e) => e.code))).toEqual(new Set(['FD_EVENT_EMPTY', 'FD_EVENT_TOO_LARGE', 'FD_EVENT_NOT_UTF8', 'FD_EVENT_TOO_DEEP', 'FD_EVENT_NOT_JSON', 'FD_EVENT_DUPLICATE_KEY', 'FD_EVENT_SCHEMA']));
  });
});
