// `fraud-detector train`: point-in-time features from the serving code (features export),
// then LightGBM in Python (training/train.py, in a virtual environment this command installs
// from training/requirements.txt), written as an ONNX model, its trees and its card.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { featureSetFor } from './build.js';
import { evaluatePeriod, formatEvaluation, type EvaluationReport } from './evaluation.js';
import { exportFeatures } from './features.js';
import { readTransactions } from './files.js';

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
        const exported = await exportFeatures(config, set, { transactions: flags.transactions, labels: flags.labels, out: csv, rejects: join(work, 'rejects.jsonl') });
        console.error(`[train] ${exported.rows} rows × ${set.names.length} features, ${exported.labels} labels, ${exported.rejected} bad lines`);
        const window = await periods(flags);
        const python = await ensureVenv(flags.venv);
        const base = join(dirname(flags.out), basename(flags.out, '.onnx'));
        mkdirSync(dirname(flags.out), { recursive: true });
        const args = [join(TRAINING_DIR, 'train.py'), '--features', csv, ...window, '--validation-days', flags.validationDays, '--out', flags.out, '--trees', `${base}.trees.json`, '--card', `${base}.card.json`, '--name', basename(base), '--seed', flags.seed, '--n-estimators', flags.trees];
        console.error('[train] fitting LightGBM');
        const summary = JSON.parse(await run(python, args)) as { version: string; thresholds: Record<string, number> };
        console.error(`[train] comparing ${summary.version} with the rules in ${flags.rules} on the test period`);
        const comparison = await compareWithRules(config, set, flags);
        console.log(`trained ${summary.version} → ${flags.out}, ${base}.card.json, ${base}.trees.json`);
        console.log(formatEvaluation(comparison));
        console.log(`thresholds (chosen on the validation period): review ${summary.thresholds.review}, block ${summary.thresholds.block}`);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
}

/** The new model against the rules on its card's test period, written into the card. */
async function compareWithRules(config: Config, set: FeatureSet, flags: TrainFlags): Promise<EvaluationReport> {
  const model = await OnnxModel.load(flags.out, set.names);
  const test = model.card.windows?.test;
  if (test === undefined) throw new Error('the card has no test period');
  const rules = loadRuleSet(flags.rules, set, { breakers: false });
  const report = await evaluatePeriod(config, set, { scorer: new ModelSlot(model) }, rules, flags, { fromMs: Date.parse(test.from), untilMs: Date.parse(test.until) });
  await model.close();
  const cardPath = cardPathFor(flags.out);
  const card = JSON.parse(readFileSync(cardPath, 'utf8')) as Record<string, unknown>;
  card.comparison = { period: 'test', rulesVersion: report.rulesVersion, model: report.model, rules: report.rules, both: report.both, bestRule: report.bestRule };
  writeFileSync(cardPath, JSON.stringify(card, null, 2) + '\n');
  return report;
}

/** The periods' bounds as train.py flags, defaults filled in from the data. */
async function periods(flags: TrainFlags): Promise<string[]> {
  const time = (label: string, text: string): number => {
    const ms = Date.parse(text);
    if (!Number.isFinite(ms)) throw new Error(`${label}: not a time: ${text}`);
    return ms;
  };
  const until = time('--train-until', flags.trainUntil);
  let first = Infinity;
  let last = -Infinity;
  if (flags.trainFrom === undefined || flags.testUntil === undefined) {
    for (const l of await readTransactions(flags.transactions, () => undefined)) {
      first = Math.min(first, l.tx.eventTimeMs);
      last = Math.max(last, l.tx.eventTimeMs);
    }
  }
  const from = flags.trainFrom !== undefined ? time('--train-from', flags.trainFrom) : first + 7 * DAY_MS;
  const testFrom = flags.testFrom !== undefined ? time('--test-from', flags.testFrom) : until + 7 * DAY_MS;
  const testUntil = flags.testUntil !== undefined ? time('--test-until', flags.testUntil) : last + 1;
  const iso = (ms: number): string => new Date(ms).toISOString();
  return ['--train-from', iso(from), '--train-until', iso(until), '--test-from', iso(testFrom), '--test-until', iso(testUntil)];
}

/** The venv's python, after installing training/requirements.txt into it when it changed. */
async function ensureVenv(dir: string): Promise<string> {
  const python = join(dir, 'bin', 'python');
  const requirements = join(TRAINING_DIR, 'requirements.txt');
  const digest = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const stamp = join(dir, '.requirements.sha256');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return python;
  console.error(`[train] installing ${requirements} into ${dir} (once; about 20 s)`);
  if (!existsSync(python)) await run('python3', ['-m', 'venv', dir]);
  await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements]);
  writeFileSync(stamp, digest);
  return python;
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
