// Dead-letter records: the original bytes, with the reason and the source in headers. A value
// too large for a Kafka record (an oversize event is dead-lettered for being one) is cut to
// fit, with its original size and SHA-256 in headers: a dead letter that could never be
// produced would hold its partition forever.
import { createHash } from 'node:crypto';
import type { InvalidEventError } from '../contract/errors.js';

export const DLQ_HEADERS = {
  code: 'fd.error.code',
  errorClass: 'fd.error.class',
  message: 'fd.error.message',
  topic: 'fd.source.topic',
  partition: 'fd.source.partition',
  offset: 'fd.source.offset',
  timestamp: 'fd.source.timestamp',
  deadLetteredAt: 'fd.dead_lettered_at',
  /** Set on a record whose value or key was cut to fit: `value`, `key` or `key,value`. */
  truncated: 'fd.truncated',
  originalValueSize: 'fd.original.value.size',
  originalValueSha256: 'fd.original.value.sha256',
  originalKeySize: 'fd.original.key.size',
  originalKeySha256: 'fd.original.key.sha256',
} as const;

/** The default bound on a dead letter's value: under librdkafka's message.max.bytes and the broker's max.message.bytes (about 1 MB), with room for headers. */
export const DEFAULT_DLQ_MAX_VALUE_BYTES = 900_000;
/** A key longer than this is cut (keys are ids; a hostile one could be any size). */
const MAX_KEY_BYTES = 1024;

export interface SourceRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
}

export interface OutgoingMessage {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, string>;
}

export function deadLetter(source: SourceRecord, error: InvalidEventError, now: number, maxValueBytes = DEFAULT_DLQ_MAX_VALUE_BYTES): OutgoingMessage {
  const value = cut(source.value, maxValueBytes);
  const key = cut(source.key, MAX_KEY_BYTES);
  const truncated = [key.original && 'key', value.original && 'value'].filter((x) => typeof x === 'string');
  return {
    key: key.bytes,
    value: value.bytes,
    headers: {
      ...(truncated.length > 0 && { [DLQ_HEADERS.truncated]: truncated.join(',') }),
      ...(value.original && { [DLQ_HEADERS.originalValueSize]: String(value.original.size), [DLQ_HEADERS.originalValueSha256]: value.original.sha256 }),
      ...(key.original && { [DLQ_HEADERS.originalKeySize]: String(key.original.size), [DLQ_HEADERS.originalKeySha256]: key.original.sha256 }),
      [DLQ_HEADERS.code]: error.code,
      [DLQ_HEADERS.errorClass]: error.name,
      [DLQ_HEADERS.message]: error.message.slice(0, 1000),
      [DLQ_HEADERS.topic]: source.topic,
      [DLQ_HEADERS.partition]: String(source.partition),
      [DLQ_HEADERS.offset]: source.offset,
      [DLQ_HEADERS.timestamp]: source.timestamp,
      [DLQ_HEADERS.deadLetteredAt]: new Date(now).toISOString(),
    },
  };
}

/** The bytes cut to at most `max`, and what they were when they had to be cut. */
function cut(bytes: Buffer | null, max: number): { bytes: Buffer | null; original?: { size: number; sha256: string } } {
  if (bytes === null || bytes.length <= max) return { bytes };
  return { bytes: bytes.subarray(0, max), original: { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') } };
}
