// `fraud-detector rules check <dir>`: validates a rules directory, for the CI of a rules repository.
import type { Command } from 'commander';
import { FeatureDefinitionError, RuleCompileError } from '../contract/errors.js';
import { configWith, featureSetFor } from './build.js';
import { loadRuleSet } from '../rules/load.js';
import { registerBacktest } from './rules-backtest.js';

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('work with rule files');
  rules
    .command('check')
    .argument('<dir>', 'directory of *.yaml rule files')
    .option('--features <file>', 'feature definitions the rules may use (default: FEATURES_FILE, else the built-in set)')
    .option('--lists <dir>', 'the lists the rules may use (default: <dir>/lists)')
    .description('compile every rule; print the first error with file, line, column and cause; exit 1 on error')
    .action((dir: string, flags: { features?: string; lists?: string }) => {
      try {
        const config = configWith({ FEATURES_FILE: flags.features });
        const set = loadRuleSet(dir, featureSetFor(config), { listsDir: flags.lists });
        console.log(`ok: ${set.rules.length} enabled rules, ${set.lists.values.size} lists, version ${set.version}`);
      } catch (err) {
        if (!(err instanceof RuleCompileError) && !(err instanceof FeatureDefinitionError)) throw err;
        console.error(`error: ${err.message}`);
        process.exitCode = 1;
      }
    });
  registerBacktest(rules);
}
