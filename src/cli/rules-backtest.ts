// `fraud-detector rules backtest`: replays labelled history through the features and a rules
// directory, offline, and prints each rule's hits, precision and recall against the labels.
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { applyLabels } from '../features/engine.js';
import { processBatch } from '../pipeline/process-batch.js';
import { BacktestTally, formatBacktest } from '../rules/backtest.js';
import { loadRuleSet } from '../rules/load.js';
import { buildPipeline, featureSetFor, memoryStore } from './build.js';
import { byEventTime, readLabels, readTransactions, rejectsWriter, type TransactionLine } from './files.js';
import { replayInTimeOrder } from './timeline.js';

interface BacktestFlags {
  rules: string;
  lists?: string;
  transactions: string;
  labels?: string;
  features?: string;
  rejects?: string;
  json?: boolean;
}

export function registerBacktest(rules: Command): void {
  rules
    .command('backtest')
    .description('replay labelled transactions through the rules (active and shadow, breakers off) and print each rule\'s hits, precision and recall')
    .requiredOption('--rules <dir>', 'the rules directory to test')
    .option('--lists <dir>', 'the lists the rules use (default: <rules>/lists)')
    .requiredOption('--transactions <file>', 'transactions, one JSON object per line')
    .option('--labels <file>', 'labels, one JSON object per line; a transaction\'s latest label counts, unlabelled ones count as not fraud')
    .option('--features <file>', 'feature definitions (default: FEATURES_FILE, else the built-in set)')
    .option('--rejects <file>', 'write bad input lines there, with their line number and reason (default: the first few go to stderr)')
    .option('--json', 'print the report as JSON')
    .action(async (flags: BacktestFlags) => {
      const config = loadConfig(undefined, { RULES_DIR: flags.rules, ...(flags.features ? { FEATURES_FILE: flags.features } : {}) });
      const features = featureSetFor(config);
      const rules = loadRuleSet(flags.rules, features, { listsDir: flags.lists, breakers: false });
      const rejects = flags.rejects !== undefined ? rejectsWriter(flags.rejects) : stderrRejects();
      const lines = byEventTime(await readTransactions(flags.transactions, rejects.reject));
      const labelLines = flags.labels ? await readLabels(flags.labels, rejects.reject) : [];
      await rejects.close();
      const truth = latestLabels(labelLines);
      const store = memoryStore(config);
      const pipeline = buildPipeline(config, store, 'alerts', features);
      pipeline.setRules(rules);
      const tally = new BacktestTally(rules.rules);
      await replayInTimeOrder(lines, labelLines, 1000, (due) => applyLabels(due, features, store), async (chunk) => {
        const outcome = await processBatch(chunk, (l) => l.tx, pipeline.deps);
        for (const d of outcome.decided) {
          const id = (chunk[d.index] as TransactionLine).tx.event.transactionId;
          tally.record([...d.ruleHits.map((h) => h.id), ...d.shadowHits], d.rulesOutcome === 'review' || d.rulesOutcome === 'block', truth.get(id));
        }
      });
      const report = tally.report();
      console.log(flags.json === true ? JSON.stringify({ rulesVersion: rules.version, ...report }, null, 2) : `rules ${rules.version}: ${formatBacktest(report)}`);
      if (rejects.count() > 0) console.error(`${rejects.count()} bad lines${flags.rejects !== undefined ? ` → ${flags.rejects}` : ''}, not replayed`);
    });
}

/** Bad lines reported on stderr, the first five in full. */
function stderrRejects(): ReturnType<typeof rejectsWriter> {
  let n = 0;
  return {
    reject: (file, lineNo, error) => {
      if (++n <= 5) console.error(`${file}:${lineNo}: ${error.code}: ${error.message}`);
    },
    count: () => n,
    close: () => Promise.resolve(),
  };
}

/** Per transaction, whether its latest label says fraud. */
function latestLabels(labels: readonly { transactionId: string; fraud: boolean; knownAtMs: number }[]): Map<string, boolean> {
  const latest = new Map<string, { fraud: boolean; at: number }>();
  for (const l of labels) {
    const prev = latest.get(l.transactionId);
    if (!prev || l.knownAtMs >= prev.at) latest.set(l.transactionId, { fraud: l.fraud, at: l.knownAtMs });
  }
  return new Map([...latest].map(([id, l]) => [id, l.fraud]));
}
