// `fraud-detector replay`: the embedded offline mode. Parses the flags and calls the offline
// driver (offline/replay.ts): the same validation, feature, model and rule code as `run`, over
// JSON-lines files in event-time order, on an in-memory store; no services needed.
import type { Command } from 'commander';
import { replayFiles } from '../offline/replay.js';
import { configWith, eventLimits, featureSetFor, memoryStore, modelsFor, offlinePipeline } from './build.js';

interface ReplayFlags {
  transactions: string;
  labels?: string;
  rules?: string;
  model?: string;
  out: string;
  rejects?: string;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('decide a file of transactions offline, in event-time order, on an in-memory store')
    .requiredOption('--transactions <file>', 'transactions, one JSON object per line')
    .option('--labels <file>', 'labels, one JSON object per line: applied to label-fed features at the time each became known')
    .option('--rules <dir>', 'rules directory (default: RULES_DIR)')
    .option('--model <file>', 'the model to score with (default: MODEL_PATH; none: rules only)')
    .requiredOption('--out <file>', 'decisions, one JSON line per valid transaction, in input order')
    .option('--rejects <file>', 'bad lines with their line number, code (as run\'s dead letters) and reason (default: <out>.rejects.jsonl)')
    .action(async (flags: ReplayFlags) => {
      const config = configWith({ RULES_DIR: flags.rules, MODEL_PATH: flags.model });
      const features = featureSetFor(config);
      const models = await modelsFor(config, features);
      const rejects = flags.rejects ?? `${flags.out}.rejects.jsonl`;
      try {
        const deps = offlinePipeline(config, features, { decisions: 'all', models });
        const r = await replayFiles(deps, () => memoryStore(config), eventLimits(config), { transactions: flags.transactions, labels: flags.labels, out: flags.out, rejects });
        const codes = [...r.rejectedByCode].map(([code, n]) => `${n} ${code}`).join(', ');
        console.error(
          `replayed ${r.transactions} transactions: ${r.outcomes.allow} allow, ${r.outcomes.review} review, ${r.outcomes.block} block → ${flags.out}` +
            `${r.labels > 0 ? `; ${r.labels} labels read` : ''}; ${r.rejected} bad lines → ${rejects}${codes ? ` (${codes})` : ''}`,
        );
      } finally {
        await Promise.all([models.scorer.close(), models.challenger?.close()]);
      }
    });
}
