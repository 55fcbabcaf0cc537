// The label event (topic `fraud-labels`): parsing plus validation into what the feature
// store applies.
import { compileSchema } from './schema.js';
import { decodeJson, type EventLimits } from './decode.js';
import { eventTimeOf } from './transaction.js';

interface LabelMessage {
  transactionId: string;
  accountId: string;
  merchantId?: string;
  label: 'fraud' | 'legit';
  timestamp: string | number;
}

const validate = compileSchema<LabelMessage>('label.schema.json');

/** A label as the feature store applies it: at the time it became known. */
export interface LabelEvent {
  transactionId: string;
  accountId: string;
  merchantId?: string;
  fraud: boolean;
  knownAtMs: number;
}

/** Parses one message value, through the same limits as a transaction. Throws InvalidEventError with a code the DLQ records. */
export function parseLabel(value: Buffer | string | null, limits: EventLimits): LabelEvent {
  return toLabelEvent(decodeJson(value, limits));
}

/** Validates an already-decoded object (tests). */
export function toLabelEvent(data: unknown): LabelEvent {
  const label = validate(data);
  return { transactionId: label.transactionId, accountId: label.accountId, merchantId: label.merchantId, fraud: label.label === 'fraud', knownAtMs: eventTimeOf(label.timestamp) };
}
