// Label-fed features: labels count from the time they became known, a transaction reads
// only labels known by its own time, a redelivered label counts once, and reading changes
// nothing.
import { describe, expect, it } from 'vitest';
import { toParsedTransaction } from '../../src/contract/transaction.js';
import { buildFeatureSet } from '../../src/features/definitions.js';
import type { LabelEvent } from '../../src/contract/label.js';
import { applyLabels, computeFeatures } from '../../src/features/engine.js';
import { parseFeatureSet } from '../../src/features/load.js';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import { tx } from '../helpers/events.js';
import { delegating } from '../helpers/stores.js';

const set = buildFeatureSet([
  { entity: 'account', aggregation: 'count', window: '1d' },
  { entity: 'merchant', aggregation: 'labelled_count', window: '7d' },
  { entity: 'merchant', aggregation: 'fraud_count', window: '7d' },
  { entity: 'merchant', aggregation: 'fraud_rate', window: '7d' },
  { entity: 'account', aggregation: 'fraud_count', window: '30d' },
]);
const day = 86_400_000;
const T = Date.parse('2026-06-01T00:00:00Z');
const label = (id: string, fraud: boolean, knownAtMs: number, merchantId = 'm1', accountId = 'victim'): LabelEvent => ({ transactionId: id, accountId, merchantId, fraud, knownAtMs });

async function featuresAt(store: MemoryFeatureStore, timeMs: number, merchantId = 'm1', accountId = 'victim'): Promise<Record<string, number>> {
  const f = await computeFeatures([toParsedTransaction(tx({ accountId, merchantId, timestamp: timeMs }))], set, store);
  const named = f.named(0);
  return { ...Object.fromEntries(Object.entries(named.merchant ?? {}).map(([k, v]) => [`merchant.${k}`, v])), 'account.fraud_count_30d': named.account?.fraud_count_30d as number };
}

describe('label-fed features', () => {
  it('names them after the entity and keeps them in their own tracked stream', () => {
    expect(set.names).toContain('merchant.fraud_rate_7d');
    expect(set.entities.map((e) => e.entity)).toEqual(['account', 'merchant_labels', 'account_labels']);
  });

  it('counts labels from when they became known, never before', async () => {
    const store = new MemoryFeatureStore({ allowedLatenessMs: 900_000 });
    await applyLabels([label('t1', true, T + 2 * day), label('t2', false, T + 2 * day + 3_600_000), label('t3', true, T + 3 * day)], set, store);
    expect(await featuresAt(store, T + day)).toEqual({ 'merchant.labelled_count_7d': 0, 'merchant.fraud_count_7d': 0, 'merchant.fraud_rate_7d': 0, 'account.fraud_count_30d': 0 });
    expect(await featuresAt(store, T + 2 * day + 7_200_000)).toEqual({ 'merchant.labelled_count_7d': 2, 'merchant.fraud_count_7d': 1, 'merchant.fraud_rate_7d': 0.5, 'account.fraud_count_30d': 1 });
    expect(await featuresAt(store, T + 4 * day)).toMatchObject({ 'merchant.labelled_count_7d': 3, 'merchant.fraud_count_7d': 2, 'account.fraud_count_30d': 2 });
    // Out of the 7-day window, still in the 30-day one.
    expect(await featuresAt(store, T + 12 * day)).toEqual({ 'merchant.labelled_count_7d': 0, 'merchant.fraud_count_7d': 0, 'merchant.fraud_rate_7d': 0, 'account.fraud_count_30d': 2 });
    // Other merchants and accounts are untouched.
    expect(await featuresAt(store, T + 4 * day, 'm2', 'someone')).toEqual({ 'merchant.labelled_count_7d': 0, 'merchant.fraud_count_7d': 0, 'merchant.fraud_rate_7d': 0, 'account.fraud_count_30d': 0 });
  });

  it('applies a redelivered label once, and reading writes nothing', async () => {
    const store = new MemoryFeatureStore({ allowedLatenessMs: 900_000 });
    const once = [label('t1', true, T + day), label('t2', true, T + day + 60_000)];
    await applyLabels(once, set, store);
    await applyLabels(once, set, store);
    for (let i = 0; i < 20; i++) await featuresAt(store, T + day + 120_000 + i);
    expect(await featuresAt(store, T + day + 300_000)).toMatchObject({ 'merchant.labelled_count_7d': 2, 'merchant.fraud_count_7d': 2, 'account.fraud_count_30d': 2 });
  });

  it('does nothing without label features', async () => {
    const store = new MemoryFeatureStore({ allowedLatenessMs: 900_000 });
    let calls = 0;
    const counting = delegating(store, { observe: (b) => (calls++, store.observe(b)) });
    await applyLabels([label('t1', true, T)], buildFeatureSet([{ entity: 'account', aggregation: 'count', window: '1h' }]), counting);
    expect(calls).toBe(0);
  });

  it('refuses a label aggregation for an entity labels do not name', () => {
    expect(() => parseFeatureSet('f.yaml', 'features:\n  - { entity: card, aggregation: fraud_rate, window: 7d }\n')).toThrow(/f.yaml:2:\d+: feature 1: fraud_rate is computed from labels, which name accounts and merchants, not cards/);
  });
});
