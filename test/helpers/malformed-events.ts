// A seeded generator of malformed transaction events, each with the code the contract must
// refuse it with: wrong types, huge and tiny numbers, control characters, deep nesting,
// duplicate keys, invalid UTF-8, empty and oversize values, truncated JSON, valid JSON of the
// wrong shape. The same seed gives the same bytes. No value holds a raw \n or \r byte, so
// each one is also exactly one line of a JSON-lines file (an empty value, an empty line).
import type { InvalidEventCode } from '../../src/contract/errors.js';
import type { TransactionEvent } from '../../src/contract/transaction.js';
import { Random } from '../../src/simulate/random.js';

export const MALFORMED_KINDS = ['wrong-type', 'bad-number', 'control-character', 'deep-nesting', 'duplicate-key', 'invalid-utf8', 'empty', 'oversize', 'truncated', 'wrong-shape'] as const;

export type MalformedKind = (typeof MALFORMED_KINDS)[number];

export interface MalformedEvent {
  kind: MalformedKind;
  /** The message value; null is a Kafka message without one. */
  value: Buffer | null;
  /** The code the contract refuses it with. */
  code: InvalidEventCode;
}

export interface MalformedOptions {
  seed: number;
  /** MAX_EVENT_BYTES of the detector under test. */
  maxBytes: number;
  /** MAX_EVENT_DEPTH of the detector under test. */
  maxDepth: number;
}

type Generate = (rng: Random, base: TransactionEvent, options: MalformedOptions) => { value: Buffer | null; code: InvalidEventCode };

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const json = (v: unknown): Buffer => text(JSON.stringify(v));

/** A valid event, ASCII only (so a cut never splits a character). */
export function validEvent(rng: Random, id: string): TransactionEvent {
  const account = rng.int(1, 500);
  return {
    transactionId: id,
    accountId: `fz-acct-${account}`,
    amount: Math.round(rng.logNormal(3, 1) * 100) / 100,
    currency: rng.pick(['EUR', 'USD', 'GBP']),
    timestamp: new Date(Date.UTC(2026, 2, 1) + rng.int(0, 86_400_000)).toISOString(),
    merchantId: `fz-merch-${rng.int(1, 50)}`,
    cardId: `fz-card-${account}`,
    country: rng.pick(['FR', 'DE', 'US']),
    channel: rng.pick(['pos', 'ecom']),
  };
}

/** The event's JSON with `raw` (JSON text, maybe not valid) as the value of `field`, appended or replacing it. */
function withRaw(event: TransactionEvent, field: string, raw: string): Buffer {
  const rest: Record<string, unknown> = { ...event };
  delete rest[field];
  return text(`${JSON.stringify(rest).slice(0, -1)},${JSON.stringify(field)}:${raw}}`);
}

const STRING_FIELDS = ['transactionId', 'accountId', 'currency', 'merchantId', 'cardId', 'deviceId', 'ipAddress', 'country', 'channel', 'merchantCategory'];
const NOT_STRINGS = ['42', '-0', '1e308', '5e-324', 'true', 'false', 'null', '[]', '{}', '["x"]', '{"a":1}'];
const NOT_NUMBERS = ['"12"', '"NaN"', '"Infinity"', '"-0"', '"1e308"', '""', 'true', 'null', '[]', '{}', '[1]'];
const NOT_TIMES = ['true', 'null', '[]', '{}', '1.5', '-1', '"yesterday"', '"NaN"', '""', '"2026-13-45T99:99:99Z"', '"2026-03-01T12:00:00"', '1e308', '8640000000000001'];

const wrongType: Generate = (rng, base) => {
  const which = rng.int(0, 2);
  if (which === 0) return { value: withRaw(base, rng.pick(STRING_FIELDS), rng.pick(NOT_STRINGS)), code: 'FD_EVENT_SCHEMA' };
  if (which === 1) return { value: withRaw(base, rng.pick(['amount', 'lat', 'lon']), rng.pick(NOT_NUMBERS)), code: 'FD_EVENT_SCHEMA' };
  return { value: withRaw(base, 'timestamp', rng.pick(NOT_TIMES)), code: 'FD_EVENT_SCHEMA' };
};

/** Numbers JSON reads but the schema refuses (out of range, Infinity), and literals that are not JSON. */
const BAD_NUMBERS: [string, string, InvalidEventCode][] = [
  ['amount', '1e308', 'FD_EVENT_SCHEMA'],
  ['amount', '1e999', 'FD_EVENT_SCHEMA'],
  ['amount', '-1e999', 'FD_EVENT_SCHEMA'],
  ['amount', '-5e-324', 'FD_EVENT_SCHEMA'],
  ['amount', '-1e-300', 'FD_EVENT_SCHEMA'],
  ['amount', '1000000000000.001', 'FD_EVENT_SCHEMA'],
  ['amount', '-0.0000001', 'FD_EVENT_SCHEMA'],
  ['lat', '1e308', 'FD_EVENT_SCHEMA'],
  ['lat', '-90.0000001', 'FD_EVENT_SCHEMA'],
  ['lon', '180.5', 'FD_EVENT_SCHEMA'],
  ['lon', '-1e999', 'FD_EVENT_SCHEMA'],
  ['timestamp', '5e-324', 'FD_EVENT_SCHEMA'],
  ['timestamp', '1e999', 'FD_EVENT_SCHEMA'],
  ['timestamp', '-5', 'FD_EVENT_SCHEMA'],
  ['amount', 'NaN', 'FD_EVENT_NOT_JSON'],
  ['amount', 'Infinity', 'FD_EVENT_NOT_JSON'],
  ['amount', '-Infinity', 'FD_EVENT_NOT_JSON'],
  ['amount', '0x10', 'FD_EVENT_NOT_JSON'],
  ['amount', '012', 'FD_EVENT_NOT_JSON'],
  ['amount', '.5', 'FD_EVENT_NOT_JSON'],
  ['amount', '+1', 'FD_EVENT_NOT_JSON'],
  ['amount', '1.', 'FD_EVENT_NOT_JSON'],
  ['amount', '1e', 'FD_EVENT_NOT_JSON'],
  ['amount', '--1', 'FD_EVENT_NOT_JSON'],
];

const badNumber: Generate = (rng, base) => {
  const [field, raw, code] = rng.pick(BAD_NUMBERS);
  return { value: withRaw(base, field, raw), code };
};

/** A control character other than \n and \r (those would end a line of a file). */
function controlCharacter(rng: Random): string {
  const c = rng.int(0, 31 - 2);
  return String.fromCharCode(c >= 0x0a ? (c + 1 >= 0x0d ? c + 2 : c + 1) : c);
}

const controlChar: Generate = (rng, base) => {
  const c = controlCharacter(rng);
  if (rng.chance(0.5)) {
    // Escaped (valid JSON): the fields with a pattern refuse it.
    const field = rng.pick(['transactionId', 'currency', 'country', 'merchantCategory']);
    const value = field === 'transactionId' ? `${base.transactionId}${c}` : `${c}${rng.pick(['EU', 'F', '123'])}`;
    return { value: json({ ...base, [field]: value }), code: 'FD_EVENT_SCHEMA' };
  }
  // Raw, inside a string: JSON allows no unescaped control character there.
  const field = rng.pick(['accountId', 'merchantId', 'cardId', 'channel']);
  return { value: withRaw(base, field, `"x${c}y"`), code: 'FD_EVENT_NOT_JSON' };
};

const deepNesting: Generate = (rng, base, { maxBytes, maxDepth }) => {
  const room = Math.floor((maxBytes - JSON.stringify(base).length - 16) / 6);
  const depth = rng.int(maxDepth, Math.max(maxDepth, Math.min(room, 20_000)));
  const opens: string[] = [];
  for (let d = 0; d < depth; d++) opens.push(rng.chance(0.5) ? '[' : '{"k":');
  const closes = opens.map((o) => (o === '[' ? ']' : '}')).reverse();
  // Sometimes left unclosed: the depth is still what refuses it, before any parse.
  const nest = `${opens.join('')}1${rng.chance(0.8) ? closes.join('') : ''}`;
  return { value: withRaw(base, 'meta', nest), code: 'FD_EVENT_TOO_DEEP' };
};

const duplicateKey: Generate = (rng, base) => {
  const body = JSON.stringify(base).slice(0, -1);
  const variants = [
    () => `${body},"amount":${rng.int(0, 1_000_000)}}`,
    () => `${body},"accountId":${JSON.stringify(base.accountId)}}`,
    () => `${body},"\\u0074ransactionId":"other"}`,
    () => `${body},"meta":{"k":1,"j":[{"k":2}],"k":3}}`,
    () => `${body},"x":1,"x":1}`,
    () => `{"currency":"USD",${body.slice(1)}}`,
  ];
  return { value: text(rng.pick(variants)()), code: 'FD_EVENT_DUPLICATE_KEY' };
};

const BAD_UTF8 = [[0xff], [0xfe], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xc3], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]];

const invalidUtf8: Generate = (rng, base) => {
  const bad = Buffer.from(rng.pick(BAD_UTF8));
  const field = rng.pick(['merchantId', 'accountId', 'note', 'channel']);
  const head = JSON.stringify({ ...base, [field]: 'AAAA' });
  const at = head.indexOf('AAAA') + rng.int(0, 4);
  return { value: Buffer.concat([text(head.slice(0, at)), bad, text(head.slice(at))]), code: 'FD_EVENT_NOT_UTF8' };
};

const empty: Generate = (rng, base) => {
  const variants: (() => { value: Buffer | null; code: InvalidEventCode })[] = [
    () => ({ value: null, code: 'FD_EVENT_EMPTY' }),
    () => ({ value: Buffer.alloc(0), code: 'FD_EVENT_EMPTY' }),
    () => ({ value: text(rng.pick([' ', '   ', '\t', ' \t '])), code: 'FD_EVENT_NOT_JSON' }),
    () => ({ value: json({ ...base, [rng.pick(['transactionId', 'accountId', 'currency', 'timestamp', 'merchantId', 'cardId', 'channel'])]: '' }), code: 'FD_EVENT_SCHEMA' }),
    () => ({ value: text('{}'), code: 'FD_EVENT_SCHEMA' }),
    () => ({ value: text('""'), code: 'FD_EVENT_SCHEMA' }),
  ];
  return rng.pick(variants)();
};

const oversize: Generate = (rng, base, { maxBytes }) => {
  const size = rng.int(maxBytes + 1, Math.floor(maxBytes * 1.5));
  const head = JSON.stringify({ ...base, note: '' });
  const pad = 'x'.repeat(Math.max(0, size - head.length + 1)); // the value is size - 1 + tail bytes: over maxBytes
  // Whatever else is wrong with it, its size is checked first.
  const tail = rng.pick(['}', '', ',"amount":1}']);
  return { value: text(`${head.slice(0, -2)}${pad}"${tail}`), code: 'FD_EVENT_TOO_LARGE' };
};

const truncated: Generate = (rng, base) => {
  const whole = JSON.stringify(base);
  if (rng.chance(0.1)) return { value: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text(whole)]), code: 'FD_EVENT_NOT_JSON' }; // a byte-order mark
  return { value: text(whole.slice(0, rng.int(1, whole.length - 1))), code: 'FD_EVENT_NOT_JSON' };
};

const wrongShape: Generate = (rng, base) => {
  const noAmount: Record<string, unknown> = { ...base };
  delete noAmount.amount;
  const variants = [
    '[]', '[1,2]', `[${JSON.stringify(base)}]`, '"a transaction"', '42', '1e308', '-0', 'null', 'true', '{"a":{"b":[]}}',
    JSON.stringify({ transaction: base }),
    JSON.stringify(noAmount),
    JSON.stringify({ transactionId: base.transactionId, accountId: base.accountId, label: 'fraud', timestamp: base.timestamp }),
  ];
  return { value: text(rng.pick(variants)), code: 'FD_EVENT_SCHEMA' };
};

const GENERATORS: Record<MalformedKind, Generate> = {
  'wrong-type': wrongType,
  'bad-number': badNumber,
  'control-character': controlChar,
  'deep-nesting': deepNesting,
  'duplicate-key': duplicateKey,
  'invalid-utf8': invalidUtf8,
  empty,
  oversize,
  truncated,
  'wrong-shape': wrongShape,
};

/** `count` malformed events, every kind in turn, the details drawn from `seed`. */
export function malformedEvents(count: number, options: MalformedOptions): MalformedEvent[] {
  const rng = new Random(options.seed);
  return Array.from({ length: count }, (_, i) => {
    const kind = MALFORMED_KINDS[i % MALFORMED_KINDS.length] as MalformedKind;
    const base = validEvent(rng, `fuzz-${i}`);
    return { kind, ...GENERATORS[kind](rng, base, options) };
  });
}
