// The transaction event: its type, and parsing plus validation of raw Kafka bytes into it.
import { decodeJson, type EventLimits } from './decode.js';
import { InvalidEventError } from './errors.js';
import { compileSchema } from './schema.js';

export interface TransactionEvent {
  transactionId: string;
  accountId: string;
  amount: number;
  currency: string;
  timestamp: string | number;
  merchantId?: string;
  merchantCategory?: string;
  cardId?: string;
  deviceId?: string;
  ipAddress?: string;
  country?: string;
  channel?: string;
  lat?: number;
  lon?: number;
  [extra: string]: unknown;
}

/** A validated event plus its event time in epoch milliseconds. */
export interface ParsedTransaction {
  event: TransactionEvent;
  eventTimeMs: number;
}

const validate = compileSchema<TransactionEvent>('transaction.schema.json');

/**
 * Parses one message value: the one validation of a transaction, for the worker and the
 * offline commands alike. Throws InvalidEventError with a code the DLQ records.
 */
export function parseTransaction(value: Buffer | string | null, limits: EventLimits): ParsedTransaction {
  return toParsedTransaction(decodeJson(value, limits));
}

/** Validates an already-decoded object (tests, the simulator's own events). */
export function toParsedTransaction(data: unknown): ParsedTransaction {
  const event = validate(data);
  return { event, eventTimeMs: eventTimeOf(event.timestamp) };
}

/** The largest time a JavaScript Date holds (year 275760); later times cannot be decided. */
export const MAX_EVENT_TIME_MS = 8_640_000_000_000_000;

/**
 * Event time in epoch milliseconds. Times before 1970 are refused: the windows number their
 * buckets from the epoch, and a negative bucket would land in another window's memory.
 */
export function eventTimeOf(timestamp: string | number): number {
  const ms = typeof timestamp === 'number' ? timestamp : Date.parse(timestamp);
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_EVENT_TIME_MS) {
    throw new InvalidEventError('FD_EVENT_SCHEMA', `/timestamp: not a valid time: ${String(timestamp)}`);
  }
  if (ms < 0) throw new InvalidEventError('FD_EVENT_SCHEMA', `/timestamp: before 1970-01-01T00:00:00Z: ${String(timestamp)}`);
  return ms;
}
