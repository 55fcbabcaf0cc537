// The schema's date-time check with its fast path accepts and refuses exactly what
// ajv-formats' own check does: over generated timestamps with fields in and out of range, and
// over the forms the fast path leaves to ajv-formats.
import { describe, expect, it } from 'vitest';
import { DATE_TIME_FORMAT, originalDateTime } from '../../src/contract/date-time.js';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

describe('date-time format', () => {
  it('agrees with ajv-formats on generated timestamps', () => {
    let s = 7;
    const rand = (n: number): number => {
      s = (s * 48_271) % 2_147_483_647;
      return s % n;
    };
    const zones = ['Z', 'z', '+00:00', '-05:30', '+23:59', '+24:00', '-12:60', '+0200', '+02', ''];
    const fractions = ['', '.1', '.123', '.123456789', '.'];
    const separators = ['T', 't', ' ', 'X'];
    let fast = 0;
    for (let i = 0; i < 200_000; i++) {
      const value = `${pad(rand(2101), 4)}-${pad(rand(14))}-${pad(rand(33))}${separators[rand(20) === 0 ? 1 + rand(3) : 0]}${pad(rand(26))}:${pad(rand(62))}:${pad(rand(62))}${fractions[rand(5)]}${zones[rand(zones.length)]}`;
      const expected = originalDateTime(value);
      expect(DATE_TIME_FORMAT.validate(value), value).toBe(expected);
      if (expected) fast++;
    }
    expect(fast).toBeGreaterThan(10_000); // enough valid ones to have gone through the fast path
  });

  it('agrees on the edges: leap years and seconds, offsets, forms left to ajv-formats', () => {
    const cases = [
      '2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2000-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-12-31T23:59:59.999Z',
      '2026-12-31T23:59:60Z', '2026-12-31T23:59:60.5Z', '2026-12-31T22:59:60-01:00', '2026-12-31T12:59:60Z', '2026-01-01T24:00:00Z', '2026-00-10T10:00:00Z',
      '2026-01-01T10:00:00+23:59', '2026-01-01T10:00:00+24:00', '2026-01-01T10:00:00-00:60', '2026-01-01T10:00:00', '2026-01-01t10:00:00z', '2026-01-01 10:00:00Z',
      '2026-01-01T10:00:00+0200', '2026-01-01T10:00:00+02', '2026-01-01T10:00Z', '2026-1-01T10:00:00Z', '+2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z ',
      '２０２６-01-01T10:00:00Z', '2026-01-01T10:00:00.Z', '2026-01-01TT10:00:00Z', '', 'T',
    ];
    for (const value of cases) expect(DATE_TIME_FORMAT.validate(value), value).toBe(originalDateTime(value));
  });
});
