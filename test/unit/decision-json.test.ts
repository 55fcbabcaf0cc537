import { describe, expect, it } from 'vitest';
import { decisionJson } from '../../src/contract/decision-json.js';
import type { Decision } from '../../src/contract/decision.js';
import { tx } from '../helpers/events.js';

describe('decisionJson', () => {
  it('splices the original event bytes into the decision, unchanged', () => {
    const raw = Buffer.from('{"transactionId":"t1","accountId":"a","amount":1.50,"currency":"EUR","timestamp":1,"extra":{"z":[1,2]}}');
    const event = tx({ transactionId: 't1' });
    const decision: Decision = {
      schemaVersion: 1, transactionId: 't1', accountId: 'a', decision: 'review', score: 0.7, modelVersion: 'm', rulesVersion: 'r',
      ruleHits: [{ id: 'x', action: 'review', reason: 'because "quoted"' }], topReasons: ['x'], eventTime: '2026-01-01T00:00:00.000Z',
      decidedAt: '2026-01-01T00:00:01.000Z', features: { account: { count_1h: 2 }, event: { amount: 1.5 } }, event,
    };
    const out = decisionJson(decision, raw).toString();
    const parsed = JSON.parse(out) as Decision & { event: Record<string, unknown> };
    expect(parsed.event).toEqual(JSON.parse(raw.toString()));
    expect(out).toContain('"amount":1.50');
    expect({ ...parsed, event: event }).toEqual(decision);
    expect(JSON.parse(decisionJson(decision, null).toString())).toEqual(decision);
  });
});
