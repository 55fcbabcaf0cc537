// The handbook benchmark's table (scripts/handbook-benchmark.sh): per set, each fold's figures
// from bench/handbook-metrics.ts (over every transaction of the test week and over the handbook's
// test set), their mean over the folds, and the handbook's published figures; then what each
// `train --search` chose, from its card.
//   npx tsx bench/handbook-summary.ts --seed N --work DIR --folds N name...
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { handbookFolds, meanOverFolds } from '../src/models/handbook-folds.js';
import type { RankingMetrics } from '../src/models/metrics.js';

interface FoldMetrics extends RankingMetrics {
  transactions: number;
  frauds: number;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { seed: { type: 'string' }, work: { type: 'string' }, folds: { type: 'string', default: '1' } } });
const work = values.work ?? '.';
const plan = handbookFolds(Number(values.folds));
const fmt = (x: number | null | undefined): string => (x === null || x === undefined ? '-' : x.toFixed(3));
const row = (label: string, m: RankingMetrics): string => `${label.padEnd(60)}${fmt(m.aucRoc).padStart(8)}${fmt(m.averagePrecision).padStart(8)}${fmt(m.cardPrecisionAt100).padStart(8)}`;
const size = (m: FoldMetrics): string => ` (${m.transactions} transactions, ${m.frauds} fraud)`;
const dir = (fold: number, name: string): string => `${work}/fold-${fold}/${name}`;

const weeks = plan.folds.map((f) => f.testFrom.slice(0, 10)).join(', ');
console.log(`\nhandbook benchmark, seed ${values.seed ?? '?'}: ${plan.folds.length} fold${plan.folds.length > 1 ? 's' : ''}, each trained on a week and tested on the week 14 days later (test weeks from ${weeks})`);
console.log(`${''.padEnd(60)}${'AUC ROC'.padStart(8)}${'AP'.padStart(8)}${'CP@100'.padStart(8)}`);
for (const name of positionals) {
  const label = name === 'search' ? 'train --search' : `${name} features`;
  const results = plan.folds.map((f) => JSON.parse(readFileSync(`${dir(f.fold, name)}/handbook-metrics.json`, 'utf8')) as { all: FoldMetrics; handbookTestSet: FoldMetrics });
  for (const [i, r] of results.entries()) {
    const fold = plan.folds.length > 1 ? `fold ${i + 1}, ` : '';
    console.log(row(`ours, ${label}, ${fold}every test transaction`, r.all) + size(r.all));
    console.log(row(`ours, ${label}, ${fold}the handbook's test set`, r.handbookTestSet) + size(r.handbookTestSet));
  }
  if (results.length > 1) {
    console.log(row(`ours, ${label}, mean, every test transaction`, meanOverFolds(results.map((r) => r.all))));
    console.log(row(`ours, ${label}, mean, the handbook's test set`, meanOverFolds(results.map((r) => r.handbookTestSet))));
  }
}
// Chapter "Model selection", after a grid search: the mean of its 4 prequential test weeks.
console.log(row('handbook, XGBoost (grid search), its test set, mean of 4', { aucRoc: 0.869, averagePrecision: 0.687, cardPrecisionAt100: 0.303 }));
console.log(row('handbook, random forest (grid search), its test set, mean of 4', { aucRoc: 0.87, averagePrecision: 0.678, cardPrecisionAt100: 0.299 }));

interface SearchCard {
  features: string[];
  featuresFile: { file: string };
  search: {
    candidates: string[];
    validationAveragePrecision: number;
    selection: { steps: { features: number }[]; chosen: { validationAveragePrecision: number } };
    params: { chosen: { num_leaves: number; learning_rate: number; min_child_samples: number; n_estimators: number; validationAveragePrecision: number } | null };
  };
}
if (positionals.includes('search')) {
  for (const f of plan.folds) {
    const card = JSON.parse(readFileSync(`${dir(f.fold, 'search')}/model.card.json`, 'utf8')) as SearchCard;
    const { selection, params } = card.search;
    const p = params.chosen;
    const chosen = p === null ? 'default parameters' : `${p.num_leaves} leaves, learning rate ${p.learning_rate}, ${p.min_child_samples} per leaf, ${p.n_estimators} trees (validation AP ${fmt(p.validationAveragePrecision)})`;
    console.log(`\ntrain --search, fold ${f.fold} (chosen on ${f.trainFrom.slice(0, 10)} + 7 days by a fit on the week before, then fit on it): ${card.features.length} of ${card.search.candidates.length} features (pruning rounds ${selection.steps.map((s) => s.features).join(' → ')}, the chosen round's validation AP ${fmt(selection.chosen.validationAveragePrecision)}); ${chosen}; feature file ${dir(f.fold, 'search')}/${card.featuresFile.file}`);
  }
}
