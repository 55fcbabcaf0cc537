// One batch through the pipeline on the memory store: an event that cannot be decided is
// rejected with a code and never sinks the rest of its batch.
import { describe, expect, it } from 'vitest';
import { buildPipeline, memoryStore } from '../../src/cli/build.js';
import { loadConfig } from '../../src/config.js';
import { parseTransaction } from '../../src/contract/transaction.js';
import { processBatch } from '../../src/pipeline/process-batch.js';
import { tx } from '../helpers/events.js';

describe('processBatch', () => {
  it('rejects extreme times and amounts and decides the rest of the batch', async () => {
    const config = loadConfig({});
    const pipeline = buildPipeline(config, memoryStore(config));
    const raw = [tx(), tx({ timestamp: 1e20 }), tx({ amount: 1e308 }), tx({ timestamp: '+275760-09-13T00:00:00.000Z' }), tx()].map((e) => Buffer.from(JSON.stringify(e)));
    const out = await processBatch(raw, (b) => parseTransaction(b, 65_536), pipeline.deps);
    expect(out.decided.map((d) => d.index)).toEqual([0, 4]);
    expect(out.rejected.map((r) => [r.index, r.error.code])).toEqual([[1, 'FD_EVENT_SCHEMA'], [2, 'FD_EVENT_SCHEMA'], [3, 'FD_EVENT_SCHEMA']]);
    for (const d of out.decided) expect(Object.values(d.decision.features).flatMap((g) => Object.values(g)).every(Number.isFinite)).toBe(true);
  });
});
