// `fraud-detector rules backtest`: replays labelled history through the features and a rules
// directory, offline, and prints each rule's hits, precision and recall against the labels.
import type { Command } from 'commander';
import { BacktestTally, formatBacktest } from '../rules/backtest.js';
import { loadRuleSet } from '../rules/load.js';
import { byEventTime, latestLabels } from '../offline/history.js';
import { readLabels, readTransactions } from '../offline/input-lines.js';
import { rejectsWriter, stderrRejects } from '../offline/rejects.js';
import { replayDecisions } from '../offline/timeline.js';
import { configWith, eventLimits, featureSetFor, offlinePipeline } from './build.js';

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
      const config = configWith({ RULES_DIR: flags.rules, FEATURES_FILE: flags.features });
      const features = featureSetFor(config);
      const rules = loadRuleSet(flags.rules, features, { listsDir: flags.lists, breakers: false });
      const rejects = flags.rejects !== undefined ? rejectsWriter(flags.rejects) : stderrRejects();
      const limits = eventLimits(config);
      const lines = byEventTime(await readTransactions(flags.transactions, limits, rejects.reject));
      const labelLines = flags.labels ? await readLabels(flags.labels, limits, rejects.reject) : [];
      await rejects.close();
      const truth = latestLabels(labelLines);
      const tally = new BacktestTally(rules.rules);
      await replayDecisions(offlinePipeline(config, features, { decisions: 'alerts', rules }), lines, labelLines, (d, line) => {
        tally.record([...d.ruleHits.map((h) => h.id), ...d.shadowHits], d.rulesOutcome === 'review' || d.rulesOutcome === 'block', truth.get(line.tx.event.transactionId));
      });
      const report = tally.report();
      console.log(flags.json === true ? JSON.stringify({ rulesVersion: rules.version, ...report }, null, 2) : `rules ${rules.version}: ${formatBacktest(report)}`);
      if (rejects.count() > 0) console.error(`${rejects.count()} bad lines${flags.rejects !== undefined ? ` → ${flags.rejects}` : ''}, not replayed`);
    });
}
