// `fraud-detector features export`: parses the flags and calls the offline driver
// (offline/feature-export.ts) for point-in-time training data.
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { exportFeatures } from '../offline/feature-export.js';
import { eventLimits, featureSetFor, offlineFeatures } from './build.js';
import { registerRebuild } from './features-rebuild.js';

interface ExportFlags {
  transactions: string;
  labels?: string;
  out: string;
  rejects?: string;
}

export function registerFeatures(program: Command): void {
  const features = program.command('features').description('work with features');
  registerRebuild(features);
  features
    .command('export')
    .description('write point-in-time features (as they were when each transaction happened) and labels as CSV')
    .requiredOption('--transactions <file>', 'transactions, one JSON object per line')
    .option('--labels <file>', 'labels, one JSON object per line; the latest label of a transaction is its label')
    .requiredOption('--out <file>', 'CSV: transactionId, accountId, cardId, eventTime, the features in model order, label (1 fraud, 0 legit, empty unknown)')
    .option('--rejects <file>', 'bad lines with their line number, code and reason (default: <out>.rejects.jsonl)')
    .action(async (flags: ExportFlags) => {
      const config = loadConfig();
      const set = featureSetFor(config);
      const result = await exportFeatures(offlineFeatures(config, set), eventLimits(config), { ...flags, rejects: flags.rejects ?? `${flags.out}.rejects.jsonl` });
      console.error(`exported ${result.rows} rows × ${set.names.length} features → ${flags.out}; ${result.labels} labels joined; ${result.rejected} bad lines → ${result.rejectsPath}`);
    });
}
