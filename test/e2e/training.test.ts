// Training as a data scientist runs it. The documented command reproduces the shipped model's
// metrics, and the model beats the best single rule; and a user's own history, with only the
// contract's required fields, trains a model that `replay` and `run` then serve.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import type { ModelCard } from '../../src/models/model-card.js';
import { DEFAULT_SIMULATOR_OPTIONS, TransactionSimulator } from '../../src/simulate/simulator.js';
import { configEnv, runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/redis-server.js';
import { closePollingAdmin, consumeAll, produce } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

type Card = ModelCard & { windows: { test: Record<string, number> }; comparison: { model: { averagePrecision: number }; bestRule: { id: string; averagePrecision: number } } };
const readCard = (path: string): Card => JSON.parse(readFileSync(path, 'utf8')) as Card;

type Simulated = ReturnType<TransactionSimulator['next']>;

/**
 * A simulated history from 2026-03-01, one transaction every `everyMs`, written as tx.jsonl and
 * labels.jsonl in a fresh directory; `lines` gives each transaction's line and its label's.
 */
function writeHistory(prefix: string, o: { seed: number; accounts: number; fraudRate: number; count: number; everyMs: number }, lines: (s: Simulated, label: ReturnType<TransactionSimulator['labelFor']>) => [object, object]): { dir: string; rows: string[] } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const sim = new TransactionSimulator({ ...DEFAULT_SIMULATOR_OPTIONS, seed: o.seed, accounts: o.accounts, fraudRate: o.fraudRate });
  const start = Date.parse('2026-03-01T00:00:00Z');
  const rows: string[] = [];
  const labels: string[] = [];
  for (let i = 0; i < o.count; i++) {
    const s = sim.next(start + i * o.everyMs);
    const [row, label] = lines(s, sim.labelFor(s));
    rows.push(JSON.stringify(row));
    labels.push(JSON.stringify(label));
  }
  writeFileSync(join(dir, 'tx.jsonl'), rows.join('\n') + '\n');
  writeFileSync(join(dir, 'labels.jsonl'), labels.join('\n') + '\n');
  return { dir, rows };
}

function script(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('scripts/train-default-model.sh', args, { env: { ...process.env, FD_SKIP_SETUP: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('the shipped model', () => {
  it('is reproduced by the documented command, within 0.01 on every test metric, and beats the best single rule', async () => {
    const shipped = readCard('models/default.card.json');
    expect(shipped.comparison.model.averagePrecision).toBeGreaterThan(shipped.comparison.bestRule.averagePrecision);
    const out = mkdtempSync(join(tmpdir(), 'fd-repro-'));
    const run = await script([out]);
    expect(run.code, run.output.slice(-2000)).toBe(0);
    const again = readCard(join(out, 'default.card.json'));
    for (const metric of ['aucRoc', 'averagePrecision', 'cardPrecisionAt100'] as const) {
      expect(Math.abs((again.windows.test[metric] as number) - (shipped.windows.test[metric] as number)), metric).toBeLessThanOrEqual(0.01);
    }
    expect(again.features).toEqual(shipped.features);
    expect(again.comparison.bestRule.averagePrecision).toBeCloseTo(shipped.comparison.bestRule.averagePrecision, 2);
  }, 900_000);
});

describe('training on your own history', () => {
  afterAll(() => closePollingAdmin());

  it('needs only the required fields, and the model serves in replay and run', async () => {
    // Only the required fields, in the transactions and in the labels.
    const { dir, rows } = writeHistory('fd-own-', { seed: 23, accounts: 400, fraudRate: 0.01, count: 40_000, everyMs: 90_000 }, ({ event: { transactionId, accountId, amount, currency, timestamp } }, label) => [
      { transactionId, accountId, amount, currency, timestamp },
      { transactionId, accountId, label: label.label, timestamp: label.timestamp },
    ]);
    const env = { KAFKA_BROKERS: '127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1' };
    const train = runCli(['train', '--transactions', join(dir, 'tx.jsonl'), '--labels', join(dir, 'labels.jsonl'), '--train-until', '2026-03-29', '--trees', '30', '--out', join(dir, 'mine.onnx')], env);
    expect(await train.exited, train.output().slice(-2000)).toBe(0);
    const card = readCard(join(dir, 'mine.card.json'));
    expect(card.version).toMatch(/^mine@/);
    expect(card.windows.test.rows).toBeGreaterThan(1000);

    const replay = runCli(['replay', '--transactions', join(dir, 'tx.jsonl'), '--model', join(dir, 'mine.onnx'), '--out', join(dir, 'decisions.jsonl')], env);
    expect(await replay.exited, replay.output()).toBe(0);
    const decisions = readFileSync(join(dir, 'decisions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Decision);
    expect(decisions).toHaveLength(40_000);
    expect(decisions.every((d) => d.modelVersion === card.version)).toBe(true);
    expect(new Set(decisions.map((d) => d.score)).size).toBeGreaterThan(10);

    const world = testWorld({ MODEL_PATH: join(dir, 'mine.onnx') });
    await world.setup();
    const port = await freePort();
    const worker = runCli(['run'], { ...configEnv(world.config), HTTP_PORT: String(port) });
    try {
      const sample = rows.slice(0, 50);
      await produce(world.config.TOPIC_TRANSACTIONS, sample.map((value) => ({ key: (JSON.parse(value) as { accountId: string }).accountId, value })));
      const served = (await consumeAll(world.config.TOPIC_DECISIONS, sample.length, 60_000)).map((m) => JSON.parse((m.value as Buffer).toString()) as Decision);
      expect(served).toHaveLength(50);
      expect(served.every((d) => d.modelVersion === card.version)).toBe(true);
    } finally {
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
  }, 600_000);
});

describe('train --search', () => {
  it('chooses features on the validation days, and replay serves the model with its feature file, refusing an edited one', async () => {
    const { dir } = writeHistory('fd-search-', { seed: 31, accounts: 300, fraudRate: 0.02, count: 30_000, everyMs: 100_000 }, ({ event }, label) => [
      event,
      { transactionId: event.transactionId, accountId: event.accountId, merchantId: event.merchantId, label: label.label, timestamp: label.timestamp },
    ]);
    const env = { KAFKA_BROKERS: '127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1' };
    const args = ['train', '--search', '--transactions', join(dir, 'tx.jsonl'), '--labels', join(dir, 'labels.jsonl'), '--train-until', '2026-03-24', '--validation-days', '7'];
    // A small search (the parameter search's logic is training/test_search.py's to test; its cost is 8 fits).
    const small = ['--candidate-windows', '1h,1d', '--label-windows', '7d', '--distinct-windows', '', '--no-param-search', '--cost-events', '5000', '--out', join(dir, 'mine.onnx')];
    const train = runCli([...args, ...small], env);
    expect(await train.exited, train.output().slice(-3000)).toBe(0);
    const card = readCard(join(dir, 'mine.card.json')) as Card & { featuresFile: { file: string }; search: SearchRecord };
    expect(card.featuresFile.file).toBe('mine.features.yaml');
    const { search } = card;
    expect(search.candidates.length).toBeGreaterThan(card.features.length);
    expect(search.selection.steps[0]?.features).toBe(search.candidates.length);
    expect(search.selection.steps.length).toBeGreaterThan(2);
    expect(search.selection.selected).toEqual(card.features);
    // The features the shipped rules read are in the set, so the rules run beside the model.
    expect(card.features).toEqual(expect.arrayContaining(['account.count_10m', 'account.amount_ratio_30d', 'device.count_1d']));
    expect(search.params.trials).toEqual([]);
    expect(search.featureCost.selected.microsPerEvent).toBeGreaterThan(0);
    expect(search.featureCost.selected.features).toBe(card.features.length);

    // Served as trained: replay with only the model takes the feature file from its card.
    const replay = runCli(['replay', '--transactions', join(dir, 'tx.jsonl'), '--model', join(dir, 'mine.onnx'), '--out', join(dir, 'decisions.jsonl')], env);
    expect(await replay.exited, replay.output()).toBe(0);
    const first = JSON.parse(readFileSync(join(dir, 'decisions.jsonl'), 'utf8').split('\n')[0] as string) as Decision;
    expect(first.modelVersion).toBe(card.version);
    const served = Object.entries(first.features).flatMap(([group, values]) => Object.keys(values).map((k) => `${group}.${k}`));
    expect(served.sort()).toEqual([...card.features].sort());

    // Another feature set than the model's is refused, with the differences; so is an edited feature file.
    const other = runCli(['replay', '--transactions', join(dir, 'tx.jsonl'), '--model', join(dir, 'mine.onnx'), '--out', join(dir, 'other.jsonl')], { ...env, FEATURES_FILE: 'features/default.yaml' });
    expect(await other.exited).not.toBe(0);
    expect(other.output()).toMatch(/FD_MODEL_MISMATCH|the model expects \d+ features/);
    writeFileSync(join(dir, 'mine.features.yaml'), readFileSync(join(dir, 'mine.features.yaml'), 'utf8').replace(/\n$/, '\n  - { entity: ip, aggregation: count, window: 1h }\n'));
    const edited = runCli(['replay', '--transactions', join(dir, 'tx.jsonl'), '--model', join(dir, 'mine.onnx'), '--out', join(dir, 'edited.jsonl')], env);
    expect(await edited.exited).not.toBe(0);
    expect(edited.output()).toMatch(/changed since the model was trained on it/);
  }, 600_000);
});

interface SearchRecord {
  candidates: string[];
  selection: { steps: { features: number; removed: string[]; validationAveragePrecision: number }[]; selected: string[] };
  params: { trials: unknown[] };
  featureCost: { selected: { features: number; microsPerEvent: number } };
}
