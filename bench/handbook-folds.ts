// The handbook's prequential test folds (src/models/handbook-folds.ts) as shell lines, for
// scripts/handbook-benchmark.sh:
//   npx tsx bench/handbook-folds.ts --folds N
// prints `history <from> <until> <labels-until>`, then per fold
// `fold <n> <search-from> <train-from> <train-until> <test-from> <test-until> <replay-from>`.
import { parseArgs } from 'node:util';
import { handbookFolds } from '../src/models/handbook-folds.js';

const { values } = parseArgs({ options: { folds: { type: 'string', default: '1' } } });
const plan = handbookFolds(Number(values.folds));
console.log(`history ${plan.historyFrom} ${plan.historyUntil} ${plan.labelsUntil}`);
for (const f of plan.folds) console.log(`fold ${f.fold} ${f.searchFrom} ${f.trainFrom} ${f.trainUntil} ${f.testFrom} ${f.testUntil} ${f.replayFrom}`);
