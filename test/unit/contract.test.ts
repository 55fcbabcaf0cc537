import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../../src/contract/errors.js';
import { parseTransaction } from '../../src/contract/transaction.js';
import { tx } from '../helpers/events.js';

const bytes = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

function codeOf(value: Buffer | null, maxBytes = 65_536): string {
  try {
    parseTransaction(value, maxBytes);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidEventError);
    return (err as InvalidEventError).code;
  }
}

describe('parseTransaction', () => {
  it('accepts a valid event, keeps unknown fields, and reads ISO and epoch times', () => {
    const iso = parseTransaction(bytes({ ...tx(), loyaltyTier: 'gold' }), 65_536);
    expect(iso.event.loyaltyTier).toBe('gold');
    expect(iso.eventTimeMs).toBe(Date.parse('2026-03-01T12:00:00.000Z'));
    const epoch = parseTransaction(bytes(tx({ timestamp: 1_700_000_000_000 })), 65_536);
    expect(epoch.eventTimeMs).toBe(1_700_000_000_000);
  });

  it.each([
    ['empty value', null, 'FD_EVENT_EMPTY'],
    ['not JSON', bytes('{"transactionId": "x'), 'FD_EVENT_NOT_JSON'],
    ['missing accountId', bytes({ ...tx(), accountId: undefined }), 'FD_EVENT_SCHEMA'],
    ['amount as a string', bytes(tx({ amount: '12' as unknown as number })), 'FD_EVENT_SCHEMA'],
    ['negative amount', bytes(tx({ amount: -1 })), 'FD_EVENT_SCHEMA'],
    ['lower-case currency', bytes(tx({ currency: 'eur' })), 'FD_EVENT_SCHEMA'],
    ['timestamp without zone', bytes(tx({ timestamp: '2026-03-01T12:00:00' })), 'FD_EVENT_SCHEMA'],
    ['bad IP address', bytes(tx({ ipAddress: '999.1.1.1' })), 'FD_EVENT_SCHEMA'],
    ['a JSON array', bytes([1, 2]), 'FD_EVENT_SCHEMA'],
    ['an epoch time no Date can hold', bytes(tx({ timestamp: 1e20 })), 'FD_EVENT_SCHEMA'],
    ['a time before 1970', bytes(tx({ timestamp: '1969-12-31T23:00:00Z' })), 'FD_EVENT_SCHEMA'],
    ['an amount above 10^12', bytes(tx({ amount: 1e308 })), 'FD_EVENT_SCHEMA'],
  ])('rejects %s with a code', (_, value, code) => {
    expect(codeOf(value)).toBe(code);
  });

  it('rejects an oversize event before parsing it', () => {
    expect(codeOf(bytes(tx({ note: 'x'.repeat(500) })), 200)).toBe('FD_EVENT_TOO_LARGE');
  });

  it('names the offending field in the message', () => {
    expect(() => parseTransaction(bytes(tx({ currency: 'euro' })), 65_536)).toThrow(/\/currency/);
  });
});
