// One batch through the pipeline on the memory store: an event that cannot be decided is
// rejected with a code and never sinks the rest of its batch.
import { describe, expect, it } from 'vitest';
import { buildPipeline, memoryStore } from '../../src/cli/build.js';
import { loadConfig } from '../../src/config.js';
import { parseTransaction } from '../../src/contract/transaction.js';
import { processBatch } from '../../src/pipeline/process-batch.js';
import { EVENT_LIMITS, tx } from '../helpers/events.js';

describe('processBatch', () => {
  it('rejects extreme times and amounts and decides the rest of the batch', async () => {
    const config = loadConfig({});
    const pipeline = buildPipeline(config, memoryStore(config));
    const raw = [tx(), tx({ timestamp: 1e20 }), tx({ amount: 1e308 }), tx({ timestamp: '+275760-09-13T00:00:00.000Z' }), tx()].map((e) => Buffer.from(JSON.stringify(e)));
    const out = await processBatch(raw, (b) => parseTransaction(b, EVENT_LIMITS), pipeline.deps);
    expect(out.decided.map((d) => d.index)).toEqual([0, 4]);
    expect(out.rejected.map((r) => [r.index, r.error.code])).toEqual([[1, 'FD_EVENT_SCHEMA'], [2, 'FD_EVENT_SCHEMA'], [3, 'FD_EVENT_SCHEMA']]);
    for (const d of out.decided) expect(Object.values(d.decision?.features ?? { missing: { x: NaN } }).flatMap((g) => Object.values(g)).every(Number.isFinite)).toBe(true);
  });
});

describe('processBatch building only the alerts', () => {
  it('leaves allows unbuilt and gives each alert its own features', async () => {
    const config = loadConfig({});
    const pipeline = buildPipeline(config, memoryStore(config), 'alerts');
    const t = Date.parse('2026-04-01T10:00:00Z');
    // Twelve payments in ten minutes: from the tenth on, account-velocity reviews them.
    const raw = Array.from({ length: 12 }, (_, i) => Buffer.from(JSON.stringify(tx({ accountId: 'fast', amount: 10 + i, timestamp: t + i * 30_000 }))));
    const out = await processBatch(raw, (b) => parseTransaction(b, EVENT_LIMITS), pipeline.deps);
    const allows = out.decided.filter((d) => d.outcome === 'allow');
    const alerts = out.decided.filter((d) => d.outcome !== 'allow');
    expect(allows.length).toBeGreaterThan(0);
    expect(alerts.length).toBeGreaterThan(1);
    expect(allows.every((d) => d.decision === null)).toBe(true);
    expect(alerts.every((d) => d.decision?.ruleHits.some((h) => h.id === 'account-velocity'))).toBe(true);
    // Features are per alert, not one object shared by the batch.
    expect(alerts.map((d) => d.decision?.features.account?.count_10m)).toEqual(alerts.map((_, i) => 12 - alerts.length + 1 + i));
  });
});
