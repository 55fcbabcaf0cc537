// `fraud-detector evaluate`: replays a labelled period and prints AUC ROC, average precision
// and card precision@100 for the model alone, the rules alone, and both together.
import type { Command } from 'commander';
import { loadRuleSet } from '../rules/load.js';
import { evaluatePeriod, formatEvaluation } from '../offline/evaluation.js';
import { byEventTime, timeSpan } from '../offline/history.js';
import { readLabels, readTransactions } from '../offline/input-lines.js';
import { stderrRejects } from '../offline/rejects.js';
import { cardOf, configWith, eventLimits, featureSetFor, modelsFor, offlinePipeline } from './build.js';

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
      const config = configWith({ MODEL_PATH: flags.model, RULES_DIR: flags.rules });
      const features = featureSetFor(config);
      const models = await modelsFor(config, features);
      const rules = loadRuleSet(config.RULES_DIR, features, { listsDir: config.LISTS_DIR, breakers: false });
      const rejects = stderrRejects();
      const limits = eventLimits(config);
      const transactions = byEventTime(await readTransactions(flags.transactions, limits, rejects.reject));
      const labels = await readLabels(flags.labels, limits, rejects.reject);
      const test = cardOf(models.scorer)?.windows?.test;
      const span = timeSpan(transactions);
      const fromMs = timeOf('--from', flags.from ?? test?.from, span.firstMs);
      const untilMs = timeOf('--until', flags.until ?? test?.until, span.endMs);
      const report = await evaluatePeriod(offlinePipeline(config, features, { decisions: 'alerts', models, rules }), { transactions, labels }, { fromMs, untilMs });
      await models.scorer.close();
      console.log(flags.json === true ? JSON.stringify(report, null, 2) : formatEvaluation(report));
      if (rejects.count() > 0) console.error(`${rejects.count()} bad lines, not replayed`);
    });
}

/** A time flag (or the card's bound) in epoch ms, `otherwise` when there is none; a time that does not parse is refused. */
function timeOf(flag: string, text: string | undefined, otherwise: number): number {
  if (text === undefined) return otherwise;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new Error(`${flag}: not a time: ${text}`);
  return ms;
}
