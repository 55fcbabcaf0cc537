// The model in the pipeline: one run per batch for the champion and one for the challenger;
// the challenger's score is in every decision and decides nothing; alerts carry the features
// that pushed the champion's score up.
import { describe, expect, it } from 'vitest';
import { buildPipeline, memoryStore, modelsFor } from '../../src/cli/build.js';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_FEATURE_SET } from '../../src/features/definitions.js';
import type { Scorer } from '../../src/models/scorer.js';
import { processBatch } from '../../src/pipeline/process-batch.js';
import { DEFAULT_SIMULATOR_OPTIONS, TransactionSimulator } from '../../src/simulate/simulator.js';
import { toParsedTransaction } from '../../src/contract/transaction.js';
import type { Decision } from '../../src/contract/decision.js';
import { compileSchema } from '../../src/contract/schema.js';

describe('champion and challenger', () => {
  it('scores both once per batch; the challenger is recorded and never decides', async () => {
    const config = loadConfig({ MODEL_PATH: 'models/default.onnx', CHALLENGER_MODEL_PATH: 'test/fixtures/models/alt.onnx' });
    const models = await modelsFor(config, DEFAULT_FEATURE_SET);
    const runs: string[] = [];
    const counting = (s: Scorer, name: string): Scorer => ({ version: s.version, explainer: s.explainer, score: (m, r, w) => (runs.push(`${name}:${r}`), s.score(m, r, w)), close: () => s.close() });
    const pipeline = buildPipeline(config, memoryStore(config), 'all', DEFAULT_FEATURE_SET, { scorer: counting(models.scorer, 'champion'), challenger: models.challenger });
    if (models.challenger) pipeline.deps.challenger = counting(models.challenger, 'challenger');
    const sim = new TransactionSimulator({ ...DEFAULT_SIMULATOR_OPTIONS, seed: 5, accounts: 200, fraudRate: 0.05 });
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    const txs = Array.from({ length: 3000 }, (_, i) => toParsedTransaction(sim.next(t0 + i * 20_000).event));
    const decided = [];
    for (let i = 0; i < txs.length; i += 1000) decided.push(...(await processBatch(txs.slice(i, i + 1000), (t) => t, pipeline.deps)).decided);
    expect(runs).toEqual(['champion:1000', 'challenger:1000', 'champion:1000', 'challenger:1000', 'champion:1000', 'challenger:1000']);
    const decisions = decided.map((d) => d.decision).filter((d) => d !== null);
    expect(decisions.every((d) => d.challenger?.version === models.challenger?.version && d.modelVersion === models.scorer.version)).toBe(true);
    // The challenger scores differently, and its score never moves a decision.
    expect(decided.some((d) => Math.abs((d.challengerScore ?? 0) - d.modelScore) > 0.05)).toBe(true);
    const { reviewThreshold } = pipeline.deps.policy;
    expect(decided.filter((d) => d.ruleHits.length === 0 && d.modelScore < reviewThreshold).every((d) => d.outcome === 'allow')).toBe(true);
    const alerts = decisions.filter((d) => d.decision !== 'allow');
    expect(alerts.length).toBeGreaterThan(20);
    for (const a of alerts.filter((d) => d.score >= reviewThreshold)) {
      expect(a.contributions?.length).toBeGreaterThan(0);
      expect(a.contributions?.every((c) => DEFAULT_FEATURE_SET.names.includes(c.feature) && c.contribution > 0)).toBe(true);
    }
    expect(decisions.filter((d) => d.decision === 'allow').every((d) => d.contributions === undefined)).toBe(true);
    const validate = compileSchema<Decision>('decision.schema.json');
    for (const d of alerts) expect(validate(JSON.parse(JSON.stringify(d)))).toBeTruthy();
    await models.scorer.close();
    await models.challenger?.close();
  });

  it('decides a batch the challenger fails to score, without the challenger\'s scores', async () => {
    const config = loadConfig({ MODEL_PATH: 'models/default.onnx' });
    const models = await modelsFor(config, DEFAULT_FEATURE_SET);
    const broken: Scorer = { version: 'broken@1', score: () => Promise.reject(new Error('onnxruntime: out of memory')), close: () => Promise.resolve() };
    const pipeline = buildPipeline(config, memoryStore(config), 'all', DEFAULT_FEATURE_SET, { scorer: models.scorer });
    pipeline.deps.challenger = broken;
    const sim = new TransactionSimulator({ ...DEFAULT_SIMULATOR_OPTIONS, seed: 6, accounts: 50 });
    const txs = Array.from({ length: 200 }, (_, i) => toParsedTransaction(sim.next(Date.parse('2026-03-01T00:00:00Z') + i * 1000).event));
    const outcome = await processBatch(txs, (t) => t, pipeline.deps);
    expect(outcome.challengerError).toMatch(/out of memory/);
    expect(outcome.decided).toHaveLength(200);
    expect(outcome.decided.every((d) => d.challengerScore === null && d.decision?.challenger === undefined)).toBe(true);
    expect(new Set(outcome.decided.map((d) => d.modelScore)).size).toBeGreaterThan(10);
    await models.scorer.close();
  });
});
