// `fraud-detector evaluate`: replays a labelled period and prints AUC ROC, average precision
// and card precision@100 for the model alone, the rules alone, and both together.
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { loadRuleSet } from '../rules/load.js';
import { featureSetFor, modelsFor } from './build.js';
import { evaluatePeriod, formatEvaluation } from './evaluation.js';
import { readTransactions } from './files.js';
import { ModelSlot } from '../models/model-slot.js';
import { OnnxModel } from '../models/onnx-model.js';

interface EvaluateFlags {
  transactions: string;
  labels: string;
  model?: string;
  rules?: string;
  from?: string;
  until?: string;
  json?: boolean;
}

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description('replay labelled history offline and print AUC ROC, average precision and card precision@100 for the model, the rules, and both')
    .requiredOption('--transactions <file>', 'transactions, one JSON object per line (the whole history: features need it)')
    .requiredOption('--labels <file>', 'labels, one JSON object per line')
    .option('--model <file>', 'the model (default: MODEL_PATH)')
    .option('--rules <dir>', 'the rules (default: RULES_DIR)')
    .option('--from <time>', 'first event time of the period measured (default: the model card\'s test period, else the first transaction)')
    .option('--until <time>', 'end of the period measured (default: the card\'s test period, else after the last transaction)')
    .option('--json', 'print the report as JSON')
    .action(async (flags: EvaluateFlags) => {
      const config = loadConfig(undefined, { ...(flags.model ? { MODEL_PATH: flags.model } : {}), ...(flags.rules ? { RULES_DIR: flags.rules } : {}) });
      const features = featureSetFor(config);
      const models = await modelsFor(config, features);
      const rules = loadRuleSet(config.RULES_DIR, features, { listsDir: config.LISTS_DIR, breakers: false });
      const test = models.scorer instanceof ModelSlot && models.scorer.model instanceof OnnxModel ? models.scorer.model.card.windows?.test : undefined;
      let fromMs = Date.parse(flags.from ?? test?.from ?? '');
      let untilMs = Date.parse(flags.until ?? test?.until ?? '');
      if (!Number.isFinite(fromMs) || !Number.isFinite(untilMs)) {
        let first = Infinity;
        let last = -Infinity;
        for (const l of await readTransactions(flags.transactions, () => undefined)) {
          first = Math.min(first, l.tx.eventTimeMs);
          last = Math.max(last, l.tx.eventTimeMs);
        }
        if (!Number.isFinite(fromMs)) fromMs = first;
        if (!Number.isFinite(untilMs)) untilMs = last + 1;
      }
      const report = await evaluatePeriod(config, features, models, rules, flags, { fromMs, untilMs });
      await models.scorer.close();
      console.log(flags.json === true ? JSON.stringify(report, null, 2) : formatEvaluation(report));
    });
}
