// `fraud-detector train`: point-in-time features from the serving code (features export),
// then LightGBM in Python (training/train.py, in a virtual environment this command installs
// from training/requirements.txt with scripts/training-venv.sh), written as an ONNX model,
// its trees and its card.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import type { FeatureSet } from '../features/definitions.js';
import { cardPathFor } from '../models/model-card.js';
import { ModelSlot } from '../models/model-slot.js';
import { OnnxModel } from '../models/onnx-model.js';
import { loadRuleSet } from '../rules/load.js';
import { evaluatePeriod, formatEvaluation, type EvaluationReport } from '../offline/evaluation.js';
import { exportFeatures } from '../offline/feature-export.js';
import { byEventTime, timeSpan } from '../offline/history.js';
import { readLabels, readTransactions, type LabelLine, type TransactionLine } from '../offline/input-lines.js';
import { eventLimits, featureSetFor, offlineFeatures, offlinePipeline } from './build.js';

interface TrainFlags {
  transactions: string;
  labels: string;
  trainFrom?: string;
  trainUntil: string;
  validationDays: string;
  testFrom?: string;
  testUntil?: string;
  out: string;
  seed: string;
  trees: string;
  rules: string;
  venv: string;
}

const DAY_MS = 86_400_000;
const TRAINING_DIR = fileURLToPath(new URL('../../training/', import.meta.url));

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a LightGBM model on point-in-time features and write it as ONNX, with its trees and its card')
    .requiredOption('--transactions <file>', 'transactions, one JSON object per line')
    .requiredOption('--labels <file>', 'labels, one JSON object per line')
    .requiredOption('--train-until <time>', 'end of the training period (ISO time or date)')
    .option('--train-from <time>', 'start of the training period (default: 7 days after the first transaction, once the windows have filled)')
    .option('--validation-days <n>', 'the last days of the training period pick the thresholds instead of fitting', '7')
    .option('--test-from <time>', 'start of the held-out test period (default: 7 days after --train-until, a label delay)')
    .option('--test-until <time>', 'end of the test period (default: after the last transaction)')
    .requiredOption('--out <file>', 'the model, e.g. models/mine.onnx (its card and trees are written beside it)')
    .option('--seed <n>', 'random seed of the training', '7')
    .option('--trees <n>', 'boosting rounds (trees)', '300')
    .option('--rules <dir>', 'the rules the model is compared with on the test period (recorded in the card)', 'rules')
    .option('--venv <dir>', 'the Python virtual environment to use (created when missing)', '.local/training-venv')
    .action(async (flags: TrainFlags) => {
      const config = loadConfig();
      const set = featureSetFor(config);
      const work = mkdtempSync(join(tmpdir(), 'fd-train-'));
      try {
        const csv = join(work, 'features.csv');
        console.error(`[train] point-in-time features → ${csv}`);
        const limits = eventLimits(config);
        const exported = await exportFeatures(offlineFeatures(config, set), limits, { transactions: flags.transactions, labels: flags.labels, out: csv, rejects: join(work, 'rejects.jsonl') });
        console.error(`[train] ${exported.rows} rows × ${set.names.length} features, ${exported.labels} labels, ${exported.rejected} bad lines`);
        // Bad lines were reported by the export; the history here is the same valid lines.
        const history = { transactions: byEventTime(await readTransactions(flags.transactions, limits, () => undefined)), labels: await readLabels(flags.labels, limits, () => undefined) };
        const window = periods(flags, history.transactions);
        await run('bash', [join(TRAINING_DIR, '..', 'scripts', 'training-venv.sh'), flags.venv]);
        const python = join(flags.venv, 'bin', 'python');
        const base = join(dirname(flags.out), basename(flags.out, '.onnx'));
        mkdirSync(dirname(flags.out), { recursive: true });
        const args = [join(TRAINING_DIR, 'train.py'), '--features', csv, ...window, '--validation-days', flags.validationDays, '--out', flags.out, '--trees', `${base}.trees.json`, '--card', `${base}.card.json`, '--name', basename(base), '--seed', flags.seed, '--n-estimators', flags.trees];
        console.error('[train] fitting LightGBM');
        const summary = JSON.parse(await run(python, args)) as { version: string; thresholds: Record<string, number> };
        console.error(`[train] comparing ${summary.version} with the rules in ${flags.rules} on the test period`);
        const comparison = await compareWithRules(config, set, flags, history);
        console.log(`trained ${summary.version} → ${flags.out}, ${base}.card.json, ${base}.trees.json`);
        console.log(formatEvaluation(comparison));
        console.log(`thresholds (chosen on the validation period): review ${summary.thresholds.review}, block ${summary.thresholds.block}`);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
}

/** The new model against the rules on its card's test period, written into the card. */
async function compareWithRules(config: Config, set: FeatureSet, flags: TrainFlags, history: { transactions: readonly TransactionLine[]; labels: readonly LabelLine[] }): Promise<EvaluationReport> {
  const model = await OnnxModel.load(flags.out, set.names);
  const test = model.card.windows?.test;
  if (test === undefined) throw new Error('the card has no test period');
  const rules = loadRuleSet(flags.rules, set, { breakers: false });
  const report = await evaluatePeriod(offlinePipeline(config, set, { decisions: 'alerts', models: { scorer: new ModelSlot(model) }, rules }), history, { fromMs: Date.parse(test.from), untilMs: Date.parse(test.until) });
  await model.close();
  const cardPath = cardPathFor(flags.out);
  const card = JSON.parse(readFileSync(cardPath, 'utf8')) as Record<string, unknown>;
  card.comparison = { period: 'test', rulesVersion: report.rulesVersion, model: report.model, rules: report.rules, both: report.both, bestRule: report.bestRule };
  writeFileSync(cardPath, JSON.stringify(card, null, 2) + '\n');
  return report;
}

/** The periods' bounds as train.py flags, defaults filled in from the data. */
function periods(flags: TrainFlags, transactions: readonly TransactionLine[]): string[] {
  const time = (label: string, text: string): number => {
    const ms = Date.parse(text);
    if (!Number.isFinite(ms)) throw new Error(`${label}: not a time: ${text}`);
    return ms;
  };
  const until = time('--train-until', flags.trainUntil);
  const span = timeSpan(transactions);
  const from = flags.trainFrom !== undefined ? time('--train-from', flags.trainFrom) : span.firstMs + 7 * DAY_MS;
  const testFrom = flags.testFrom !== undefined ? time('--test-from', flags.testFrom) : until + 7 * DAY_MS;
  const testUntil = flags.testUntil !== undefined ? time('--test-until', flags.testUntil) : span.endMs;
  const iso = (ms: number): string => new Date(ms).toISOString();
  return ['--train-from', iso(from), '--train-until', iso(until), '--test-from', iso(testFrom), '--test-until', iso(testUntil)];
}

/** Runs a command; resolves with its stdout, rejects with its stderr's tail. */
function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${basename(command)} ${basename(args[0] ?? '')} exited with ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}
