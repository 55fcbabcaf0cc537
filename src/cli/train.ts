// `fraud-detector train`: point-in-time features from the serving code (features export),
// then LightGBM in Python (training/train.py, in a virtual environment this command installs
// from training/requirements.txt with scripts/training-venv.sh), written as an ONNX model,
// its trees and its card. With --search, the features and parameters are chosen first
// (training/search.ts).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import { DEFAULT_CANDIDATE_OPTIONS } from '../features/candidates.js';
import type { FeatureSet } from '../features/definitions.js';
import { loadFeatureInputs } from '../features/load.js';
import { cardPathFor } from '../models/model-card.js';
import { ModelSlot } from '../models/model-slot.js';
import { OnnxModel } from '../models/onnx-model.js';
import { loadRuleSet } from '../rules/load.js';
import { evaluatePeriod, formatEvaluation, type EvaluationReport } from '../offline/evaluation.js';
import { exportFeatures } from '../offline/feature-export.js';
import { byEventTime, timeSpan } from '../offline/history.js';
import { readLabels, readTransactions, type LabelLine, type TransactionLine } from '../offline/input-lines.js';
import { run, TRAINING_DIR, trainingPython } from '../training/python.js';
import { searchAndTrain, type SearchSettings } from '../training/search.js';
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
  search?: boolean;
  candidateWindows: string;
  labelWindows: string;
  distinctWindows: string;
  tolerance: string;
  paramSearch: boolean;
  costEvents: string;
  refit?: boolean;
  exportCache?: string;
}

const DAY_MS = 86_400_000;

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a LightGBM model on point-in-time features and write it as ONNX, with its trees and its card')
    .requiredOption('--transactions <file>', 'transactions, one JSON object per line')
    .requiredOption('--labels <file>', 'labels, one JSON object per line')
    .requiredOption('--train-until <time>', 'end of the training period (ISO time or date)')
    .option('--train-from <time>', 'start of the training period (default: 7 days after the first transaction, once the windows have filled)')
    .option('--validation-days <n>', 'the last days of the training period pick the thresholds (and, with --search, the features and parameters) instead of fitting', '7')
    .option('--test-from <time>', 'start of the held-out test period (default: 7 days after --train-until, a label delay)')
    .option('--test-until <time>', 'end of the test period (default: after the last transaction)')
    .requiredOption('--out <file>', 'the model, e.g. models/mine.onnx (its card and trees are written beside it)')
    .option('--seed <n>', 'random seed of the training', '7')
    .option('--trees <n>', 'boosting rounds (trees); with --search, chosen by the search', '300')
    .option('--rules <dir>', 'the rules the model is compared with on the test period (recorded in the card); with --search, the features they read are in every set', 'rules')
    .option('--venv <dir>', 'the Python virtual environment to use (created when missing)', '.local/training-venv')
    .option('--search', 'choose the features (from candidates generated for every entity in the data) and LightGBM\'s parameters on the validation days; writes <out>.features.yaml, which the model is served with')
    .option('--candidate-windows <list>', 'with --search: windows of the candidates over payments', DEFAULT_CANDIDATE_OPTIONS.windows.join(','))
    .option('--label-windows <list>', 'with --search: windows of the label-fed candidates (fraud_count, fraud_rate, labelled_count)', DEFAULT_CANDIDATE_OPTIONS.labelWindows.join(','))
    .option('--distinct-windows <list>', 'with --search: windows of the distinct-count candidates (empty: none)', DEFAULT_CANDIDATE_OPTIONS.distinctWindows.join(','))
    .option('--tolerance <ap>', 'with --search: keep the smallest feature set whose validation AP is within this of the best', '0.002')
    .option('--no-param-search', 'with --search: keep the default LightGBM parameters')
    .option('--cost-events <n>', 'with --search: transactions the feature engine is timed over for the card', '150000')
    .option('--refit', 'with --search: fit the final model on the validation days (the latest labelled ones, after they chose the features and parameters) instead of the days before them')
    .option('--export-cache <dir>', 'with --search: keep the candidates\' export in this directory and reuse it when the history, labels and candidates are the same (searches over other periods of one history)')
    .action(async (flags: TrainFlags) => {
      const config = loadConfig();
      const limits = eventLimits(config);
      const work = mkdtempSync(join(tmpdir(), 'fd-train-'));
      try {
        const history = { transactions: byEventTime(await readTransactions(flags.transactions, limits, () => undefined)), labels: await readLabels(flags.labels, limits, () => undefined) };
        const python = await trainingPython(flags.venv);
        const base = join(dirname(flags.out), basename(flags.out, '.onnx'));
        mkdirSync(dirname(flags.out), { recursive: true });
        const trainArgs = [...periods(flags, history.transactions), '--validation-days', flags.validationDays, '--out', flags.out, '--trees', `${base}.trees.json`, '--card', `${base}.card.json`, '--name', basename(base), '--seed', flags.seed];
        const set =
          flags.search === true
            ? await searchAndTrain((s) => offlineFeatures(config, s), limits, history, { ...searchSettings(flags), servedInputs: config.FEATURES_FILE === undefined ? [] : loadFeatureInputs(config.FEATURES_FILE) }, { python, work, files: { transactions: flags.transactions, labels: flags.labels }, trainArgs, card: `${base}.card.json`, featuresFile: `${base}.features.yaml` })
            : await trainOn(config, featureSetFor(config), { python, work, flags, trainArgs });
        const card = JSON.parse(readFileSync(cardPathFor(flags.out), 'utf8')) as { version: string; thresholds: Record<string, number> };
        console.error(`[train] comparing ${card.version} with the rules in ${flags.rules} on the test period`);
        const comparison = await compareWithRules(config, set, flags, history);
        console.log(`trained ${card.version} → ${flags.out}, ${base}.card.json, ${base}.trees.json${flags.search === true ? `, ${base}.features.yaml (serve it with MODEL_PATH=${flags.out}: the card names the feature file)` : ''}`);
        console.log(formatEvaluation(comparison));
        console.log(`thresholds (chosen on the validation period): review ${card.thresholds.review}, block ${card.thresholds.block}`);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
}

/** The feature set's point-in-time export, and train.py on it. */
async function trainOn(config: Config, set: FeatureSet, job: { python: string; work: string; flags: TrainFlags; trainArgs: string[] }): Promise<FeatureSet> {
  const { flags } = job;
  const csv = join(job.work, 'features.csv');
  console.error(`[train] point-in-time features → ${csv}`);
  const exported = await exportFeatures(offlineFeatures(config, set), eventLimits(config), { transactions: flags.transactions, labels: flags.labels, out: csv, rejects: join(job.work, 'rejects.jsonl') });
  console.error(`[train] ${exported.rows} rows × ${set.names.length} features, ${exported.labels} labels, ${exported.rejected} bad lines`);
  console.error('[train] fitting LightGBM');
  await run(job.python, [join(TRAINING_DIR, 'train.py'), '--features', csv, ...job.trainArgs, '--n-estimators', flags.trees]);
  return set;
}

function searchSettings(flags: TrainFlags): SearchSettings {
  const list = (text: string): string[] => text.split(',').map((w) => w.trim()).filter((w) => w.length > 0);
  const number = (flag: string, text: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag}: not a number ≥ 0: ${text}`);
    return n;
  };
  return {
    candidates: { windows: list(flags.candidateWindows), labelWindows: list(flags.labelWindows), distinctWindows: list(flags.distinctWindows) },
    tolerance: number('--tolerance', flags.tolerance),
    paramSearch: flags.paramSearch,
    costEvents: number('--cost-events', flags.costEvents),
    rulesDir: flags.rules,
    refit: flags.refit === true,
    ...(flags.exportCache !== undefined ? { exportCache: flags.exportCache } : {}),
  };
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
