import { describe, expect, it } from 'vitest';
import type { EventLimits } from '../../src/contract/decode.js';
import { InvalidEventError } from '../../src/contract/errors.js';
import { parseLabel } from '../../src/contract/label.js';
import { parseTransaction } from '../../src/contract/transaction.js';
import { EVENT_LIMITS, tx } from '../helpers/events.js';

const bytes = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

function codeOf(value: Buffer | null, limits: Partial<EventLimits> = {}): string {
  try {
    parseTransaction(value, { ...EVENT_LIMITS, ...limits });
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidEventError);
    return (err as InvalidEventError).code;
  }
}

/** A valid event with `nested` placed `depth` levels down (the event itself is level 1). */
function nestedEvent(depth: number): Buffer {
  return bytes(`{"extra":${'['.repeat(depth - 1)}1${']'.repeat(depth - 1)},${JSON.stringify(tx()).slice(1)}`);
}

describe('parseTransaction', () => {
  it('accepts a valid event, keeps unknown fields, and reads ISO and epoch times', () => {
    const iso = parseTransaction(bytes({ ...tx(), loyaltyTier: 'gold' }), EVENT_LIMITS);
    expect(iso.event.loyaltyTier).toBe('gold');
    expect(iso.eventTimeMs).toBe(Date.parse('2026-03-01T12:00:00.000Z'));
    const epoch = parseTransaction(bytes(tx({ timestamp: 1_700_000_000_000 })), EVENT_LIMITS);
    expect(epoch.eventTimeMs).toBe(1_700_000_000_000);
  });

  it.each([
    ['empty value', null, 'FD_EVENT_EMPTY'],
    ['a zero-length value', Buffer.alloc(0), 'FD_EVENT_EMPTY'],
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
    ['an amount JSON reads as Infinity', bytes(JSON.stringify(tx()).replace('"amount":25', '"amount":1e999')), 'FD_EVENT_SCHEMA'],
    ['a bad UTF-8 byte', Buffer.concat([bytes(JSON.stringify(tx()).slice(0, -1) + ',"note":"'), Buffer.from([0xc3, 0x28]), bytes('"}')]), 'FD_EVENT_NOT_UTF8'],
    ['a UTF-8 surrogate', Buffer.concat([bytes(JSON.stringify(tx()).slice(0, -1) + ',"note":"'), Buffer.from([0xed, 0xa0, 0x80]), bytes('"}')]), 'FD_EVENT_NOT_UTF8'],
    ['a duplicate key', bytes(JSON.stringify(tx()).slice(0, -1) + ',"amount":9999999}'), 'FD_EVENT_DUPLICATE_KEY'],
    ['a duplicate key spelt with an escape', bytes(JSON.stringify(tx()).slice(0, -1) + ',"\\u0061mount":1}'), 'FD_EVENT_DUPLICATE_KEY'],
    ['a duplicate key in a nested object', bytes(JSON.stringify(tx()).slice(0, -1) + ',"meta":{"a":1,"b":{"c":2},"a":3}}'), 'FD_EVENT_DUPLICATE_KEY'],
    ['a duplicate key in an object inside an array', bytes(JSON.stringify(tx()).slice(0, -1) + ',"items":[{"a":1},{"b":2,"b":3}]}'), 'FD_EVENT_DUPLICATE_KEY'],
    ['a duplicate __proto__ key', bytes(JSON.stringify(tx()).slice(0, -1) + ',"__proto__":1,"__proto__":2}'), 'FD_EVENT_DUPLICATE_KEY'],
    ['a nesting 5,000 deep', nestedEvent(5000), 'FD_EVENT_TOO_DEEP'],
    ['a nesting 5,000 deep that is not JSON', bytes('['.repeat(5000)), 'FD_EVENT_TOO_DEEP'],
  ])('rejects %s with a code', (_, value, code) => {
    expect(codeOf(value)).toBe(code);
  });

  it('accepts equal keys in different objects, and brackets and quotes inside strings', () => {
    const event = { ...tx(), a: { id: 1 }, b: { id: 2 }, note: '[[[{{{"}}}]]] \\" ' + '['.repeat(100) };
    expect(codeOf(bytes(event))).toBe('ok');
    expect(codeOf(bytes(JSON.stringify(tx()).slice(0, -1) + ',"items":[{"a":1},{"a":2,"b":[{"a":3}]}],"__proto__":{"a":4},"1":0,"0":1}'))).toBe('ok');
  });

  it('counts nesting exactly: MAX_EVENT_DEPTH levels pass, one more does not', () => {
    expect(codeOf(nestedEvent(32))).toBe('ok');
    expect(codeOf(nestedEvent(33))).toBe('FD_EVENT_TOO_DEEP');
    expect(codeOf(nestedEvent(3), { maxDepth: 2 })).toBe('FD_EVENT_TOO_DEEP');
  });

  it('rejects an oversize event before parsing it, counting bytes, not characters', () => {
    expect(codeOf(bytes(tx({ note: 'x'.repeat(500) })), { maxBytes: 200 })).toBe('FD_EVENT_TOO_LARGE');
    const wide = bytes(tx({ note: 'é'.repeat(100) }));
    expect(codeOf(wide, { maxBytes: wide.length })).toBe('ok');
    expect(codeOf(wide, { maxBytes: wide.length - 1 })).toBe('FD_EVENT_TOO_LARGE');
  });

  it('names the offending field or key in the message', () => {
    expect(() => parseTransaction(bytes(tx({ currency: 'euro' })), EVENT_LIMITS)).toThrow(/\/currency/);
    expect(() => parseTransaction(bytes('{"amount":1,"amount":2}'), EVENT_LIMITS)).toThrow(/"amount" twice/);
  });

  it('puts labels through the same limits', () => {
    const label = { transactionId: 't', accountId: 'a', label: 'fraud', timestamp: '2026-03-01T12:00:00Z' };
    expect(parseLabel(bytes(label), EVENT_LIMITS).fraud).toBe(true);
    expect(() => parseLabel(bytes(JSON.stringify(label).slice(0, -1) + ',"label":"legit"}'), EVENT_LIMITS)).toThrow(expect.objectContaining({ code: 'FD_EVENT_DUPLICATE_KEY' }));
    expect(() => parseLabel(Buffer.from([0x7b, 0xff, 0x7d]), EVENT_LIMITS)).toThrow(expect.objectContaining({ code: 'FD_EVENT_NOT_UTF8' }));
  });
});
