// Builders for transaction events used across tests.
import type { EventLimits } from '../../src/contract/decode.js';
import type { TransactionEvent } from '../../src/contract/transaction.js';

/** The default MAX_EVENT_BYTES and MAX_EVENT_DEPTH. */
export const EVENT_LIMITS: EventLimits = { maxBytes: 65_536, maxDepth: 32 };

let serial = 0;

export function tx(overrides: Partial<TransactionEvent> = {}): TransactionEvent {
  serial++;
  return {
    transactionId: `t-${process.pid}-${serial}`,
    accountId: 'acct-1',
    amount: 25,
    currency: 'EUR',
    timestamp: '2026-03-01T12:00:00.000Z',
    merchantId: 'merch-1',
    cardId: 'card-1',
    deviceId: 'dev-1',
    country: 'FR',
    channel: 'pos',
    ...overrides,
  };
}

export const at = (iso: string, plusMs = 0): string => new Date(Date.parse(iso) + plusMs).toISOString();
