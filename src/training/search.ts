// `train --search`: the candidate features generated for the history, exported point in time
// once (one wide export through the serving code), the features and LightGBM's parameters
// chosen by training/search.py on the validation days, the chosen set written as a feature file
// beside the model (named in its card, so `run` and `replay` serve exactly what was trained),
// and the set's cost per event measured and recorded.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { EventLimits } from '../contract/decode.js';
import { byName, candidateInputs, entitiesPresent, type CandidateOptions } from '../features/candidates.js';
import { buildFeatureSet, DEFAULT_FEATURE_INPUTS, DEFAULT_FEATURE_SET, EVENT_FEATURES, featureName, type FeatureInput, type FeatureSet } from '../features/definitions.js';
import { loadRuleSet } from '../rules/load.js';
import { loadFeatureSet } from '../features/load.js';
import { featureFileText } from '../features/write.js';
import { exportFeatures } from '../offline/feature-export.js';
import type { LabelLine, TransactionLine } from '../offline/input-lines.js';
import type { PipelineDeps } from '../pipeline/process-batch.js';
import { measureFeatureCost } from './feature-cost.js';
import { run, TRAINING_DIR } from './python.js';

export interface History {
  transactions: readonly TransactionLine[];
  labels: readonly LabelLine[];
}

export interface SearchSettings {
  candidates: CandidateOptions;
  /** Keep the smallest set whose validation AP is within this of the best pruning round's. */
  tolerance: number;
  paramSearch: boolean;
  /** Transactions (from the first) the feature engine is timed over. */
  costEvents: number;
  /** The rules to serve with the model: the features they read are in every set. */
  rulesDir: string;
  /** The definitions of the feature file served now (FEATURES_FILE): its features are there for the rules to read, as the built-in ones are. */
  servedInputs?: readonly FeatureInput[];
  /** Fit the final model on the validation days (after they chose the features and parameters) instead of the fit period. */
  refit: boolean;
  /** A directory where the candidates' export is kept and reused by a later search on the same history, candidates and labels (exportCacheFile). */
  exportCache?: string;
}

export interface SearchRun {
  python: string;
  work: string;
  files: { transactions: string; labels: string };
  /** train.py's flags for the periods, outputs, name and seed. */
  trainArgs: string[];
  /** The model's card, and the feature file to write beside the model. */
  card: string;
  featuresFile: string;
}

/**
 * The candidate set for a history, plus the features the rules use (which every selected set
 * keeps, since the rules run on the model's feature set), written as a feature file and read
 * back through the loader (so it is valid as a file). The rules may read the built-in features
 * and those of the feature file served now (`served`), as they do in `run`.
 */
export function candidateSet(history: History, options: CandidateOptions, rulesDir: string, file: string, served: readonly FeatureInput[] = []): { inputs: FeatureInput[]; set: FeatureSet; ruleFeatures: string[] } {
  const entities = entitiesPresent(history.transactions.map((l) => l.tx.event as unknown as Record<string, unknown>));
  const generated = candidateInputs(entities, options);
  const names = byName(generated);
  // The served file's definition of a name first, then the built-in one, unless a candidate has it.
  const readable = new Map<string, FeatureInput>();
  for (const input of [...served, ...DEFAULT_FEATURE_INPUTS]) if (!names.has(featureName(input)) && !readable.has(featureName(input))) readable.set(featureName(input), input);
  const ruleFeatures = featuresOfRules(rulesDir, [...generated, ...readable.values()]);
  const inputs = [...generated, ...[...readable.values()].filter((input) => ruleFeatures.includes(featureName(input)))];
  writeFileSync(file, featureFileText(inputs, [`train --search candidates: ${entities.join(', ')}`]));
  return { inputs, set: loadFeatureSet(file), ruleFeatures };
}

/** The features the rules in `dir` read (in expressions and reasons), compiled against `inputs`: one they do not define is refused (RuleCompileError). */
export function featuresOfRules(dir: string, inputs: readonly FeatureInput[]): string[] {
  const rules = loadRuleSet(dir, buildFeatureSet(inputs), { breakers: false });
  const names = new Set<string>();
  for (const rule of rules.rules) {
    for (const path of [...rule.inputs.map((i) => i.path), ...rule.reasonTemplate.paths]) if (path[0] === 'features') names.add(`${path[1] ?? ''}.${path[2] ?? ''}`);
  }
  return [...names];
}

/** A set's offline features: the set, a fresh in-memory store and the clock bound (cli/build.ts offlineFeatures). */
export type OfflineFeatures = (set: FeatureSet) => Pick<PipelineDeps, 'features' | 'store' | 'clock'>;

/** Runs the whole search; returns the selected feature set, the one the model was trained on. */
export async function searchAndTrain(offline: OfflineFeatures, limits: EventLimits, history: History, settings: SearchSettings, job: SearchRun): Promise<FeatureSet> {
  const candidates = candidateSet(history, settings.candidates, settings.rulesDir, join(job.work, 'candidates.features.yaml'), settings.servedInputs);
  const cached = settings.exportCache === undefined ? undefined : exportCacheFile(settings.exportCache, readFileSync(join(job.work, 'candidates.features.yaml'), 'utf8'), job.files);
  const csv = cached ?? join(job.work, 'candidates.csv');
  const started = Date.now();
  let exportSeconds: number | null = null;
  if (cached !== undefined && existsSync(cached)) {
    console.error(`[train --search] ${candidates.set.names.length} candidate features: the export of the same history, labels and candidates in ${cached}; searching`);
  } else {
    console.error(`[train --search] ${candidates.set.names.length} candidate features, point in time → ${csv}`);
    const part = `${csv}.${process.pid}.part`;
    const exported = await exportFeatures(offline(candidates.set), limits, { ...job.files, out: part, rejects: join(job.work, 'rejects.jsonl') });
    renameSync(part, csv);
    exportSeconds = Math.round((Date.now() - started) / 100) / 10;
    console.error(`[train --search] ${exported.rows} rows × ${candidates.set.names.length} features in ${exportSeconds} s; searching`);
  }
  const always = [...EVENT_FEATURES, ...candidates.ruleFeatures];
  const searchArgs = ['--always', always.join(','), '--tolerance', String(settings.tolerance), ...(settings.paramSearch ? [] : ['--no-param-search']), ...(settings.refit ? ['--refit'] : [])];
  await run(job.python, [join(TRAINING_DIR, 'search.py'), '--features', csv, ...job.trainArgs, ...searchArgs]);
  const card = JSON.parse(readFileSync(job.card, 'utf8')) as SearchedCard;
  const set = writeSelected(card.features, candidates.inputs, job.featuresFile);
  console.error(`[train --search] ${set.names.length} features → ${job.featuresFile}; timing the feature engine`);
  const selectedCost = await measureFeatureCost(offline(set), history, settings.costEvents);
  const defaultCost = await measureFeatureCost(offline(DEFAULT_FEATURE_SET), history, settings.costEvents);
  card.featuresFile = { file: basename(job.featuresFile), sha256: createHash('sha256').update(readFileSync(job.featuresFile)).digest('hex') };
  card.search = {
    ...card.search,
    exportSeconds,
    ...(cached !== undefined ? { exportReused: exportSeconds === null } : {}),
    featureCost: { how: 'CPU time of the feature engine over the first transactions of the history, in event-time order with their labels, on the in-memory store (one thread, no Redis)', selected: selectedCost, builtIn: defaultCost },
  };
  writeFileSync(job.card, JSON.stringify(card, null, 2) + '\n');
  return set;
}

/**
 * Where a search keeps the candidates' export for a later search to reuse: named by the sha256 of
 * the candidate feature file and of the transactions and labels files' paths, sizes and
 * modification times. The export is point in time (each row as the features were at its
 * transaction, with the labels known then; the label column is read only for the periods a
 * search fits, validates or tests on), so searches over different periods of the same history
 * read the same file each would have written.
 */
export function exportCacheFile(dir: string, candidatesText: string, files: { transactions: string; labels: string }): string {
  const hash = createHash('sha256').update(candidatesText);
  for (const file of [files.transactions, files.labels]) {
    const stat = statSync(file);
    hash.update(`\0${resolve(file)}\0${stat.size}\0${stat.mtimeMs}`);
  }
  mkdirSync(dir, { recursive: true });
  return join(dir, `candidates-${hash.digest('hex').slice(0, 16)}.csv`);
}

interface SearchedCard {
  features: string[];
  featuresFile?: { file: string; sha256: string };
  search?: Record<string, unknown>;
}

/**
 * Writes the model's features (the event's own, then selected candidates in candidate order) as
 * a feature file, and reads it back: the set it loads must have exactly the model's features.
 */
export function writeSelected(modelFeatures: readonly string[], candidates: readonly FeatureInput[], file: string): FeatureSet {
  const named = byName(candidates);
  const windowed = modelFeatures.filter((n) => !(EVENT_FEATURES as readonly string[]).includes(n));
  const inputs = windowed.map((name) => {
    const input = named.get(name);
    if (input === undefined) throw new Error(`the search selected ${name}, which is not a candidate`);
    return input;
  });
  writeFileSync(file, featureFileText(inputs, [`Selected by fraud-detector train --search for ${basename(file).replace(/\.features\.yaml$/, '.onnx')}: the features it was trained on.`, 'Served with the model (its card names this file); an edit makes the model refuse to load.']));
  const set = loadFeatureSet(file);
  if (set.names.join(',') !== modelFeatures.join(',')) throw new Error(`${file}: reads back as ${set.names.join(', ')}, not the model's ${modelFeatures.join(', ')}`);
  return set;
}
