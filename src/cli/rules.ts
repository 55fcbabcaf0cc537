// `fraud-detector rules check <dir>`: validates a rules directory, for the CI of a rules repository.
import type { Command } from 'commander';
import { FeatureDefinitionError, RuleCompileError } from '../contract/errors.js';
import { loadConfig } from '../config.js';
import { featureSetFor } from './build.js';
import { loadRuleSet } from '../rules/load.js';

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('work with rule files');
  rules
    .command('check')
    .argument('<dir>', 'directory of *.yaml rule files')
    .option('--features <file>', 'feature definitions the rules may use (default: FEATURES_FILE, else the built-in set)')
    .description('compile every rule; print the first error with file, line, column and cause; exit 1 on error')
    .action((dir: string, flags: { features?: string }) => {
      try {
        const set = loadRuleSet(dir, featureSetFor(loadConfig(undefined, flags.features ? { FEATURES_FILE: flags.features } : {})));
        console.log(`ok: ${set.rules.length} enabled rules, version ${set.version}`);
      } catch (err) {
        if (!(err instanceof RuleCompileError) && !(err instanceof FeatureDefinitionError)) throw err;
        console.error(`error: ${err.message}`);
        process.exitCode = 1;
      }
    });
}
