import { describe, expect, it } from 'vitest';
import { decisionJson } from '../../src/contract/decision-json.js';
import type { Decision } from '../../src/contract/decision.js';
import { compileSchema } from '../../src/contract/schema.js';
import { parseTransaction } from '../../src/contract/transaction.js';
import { buildPipeline, memoryStore } from '../../src/cli/build.js';
import { loadConfig } from '../../src/config.js';
import { processBatch } from '../../src/pipeline/process-batch.js';
import { EVENT_LIMITS, tx } from '../helpers/events.js';

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

describe('the decision schema', () => {
  it('accepts the decisions the pipeline builds, rule hits and their values included', async () => {
    const validate = compileSchema<Decision>('decision.schema.json');
    const config = loadConfig({});
    const pipeline = buildPipeline(config, memoryStore(config));
    const t = Date.parse('2026-05-01T08:00:00Z');
    // Six small payments on one card: card-testing-burst hits the last two.
    const raw = Array.from({ length: 6 }, (_, i) => Buffer.from(JSON.stringify(tx({ accountId: 'v', cardId: 'vc', amount: 1.5, timestamp: t + i * 1000 }))));
    const out = await processBatch(raw, (b) => parseTransaction(b, EVENT_LIMITS), pipeline.deps);
    const decisions = out.decided.map((d) => d.decision as Decision);
    expect(decisions.at(-1)?.ruleHits[0]).toMatchObject({ id: 'card-testing-burst', values: { 'event.cardId': 'vc', 'features.card.count_1h': 6, 'event.amount': 1.5 } });
    for (const d of decisions) expect(validate(JSON.parse(decisionJson(d, null).toString()))).toBeTruthy();
    expect(() => validate({ ...decisions[0], ruleHits: [{ id: 'x', action: 'review', reason: 'r', values: { a: {} } }] })).toThrow(/values/);
  });
});
