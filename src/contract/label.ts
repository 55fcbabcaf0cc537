// The label event (topic `fraud-labels`): parsing plus validation into what the feature
// store applies.
import { compileSchema } from './schema.js';
import { decodeJson, eventTimeOf } from './transaction.js';

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

/** Parses one message value. Throws InvalidEventError with a code the DLQ records. */
export function parseLabel(value: Buffer | string | null, maxBytes: number): LabelEvent {
  return toLabelEvent(decodeJson(value, maxBytes));
}

/** Validates an already-decoded object (files in replay mode, tests). */
export function toLabelEvent(data: unknown): LabelEvent {
  const label = validate(data);
  return { transactionId: label.transactionId, accountId: label.accountId, merchantId: label.merchantId, fraud: label.label === 'fraud', knownAtMs: eventTimeOf(label.timestamp) };
}
