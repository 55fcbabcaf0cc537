// Dead-letter records: the original bytes, untouched, with the reason and the source in headers.
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
} as const;

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

export function deadLetter(source: SourceRecord, error: InvalidEventError, now: number): OutgoingMessage {
  return {
    key: source.key,
    value: source.value,
    headers: {
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
