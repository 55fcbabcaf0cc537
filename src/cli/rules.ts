// `fraud-detector rules check <dir>`: validates a rules directory, for the CI of a rules repository.
import type { Command } from 'commander';
import { RuleCompileError } from '../contract/errors.js';
import { DEFAULT_FEATURE_SET } from '../features/definitions.js';
import { loadRuleSet } from '../rules/load.js';

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('work with rule files');
  rules
    .command('check')
    .argument('<dir>', 'directory of *.yaml rule files')
    .description('compile every rule; print the first error with file, line, column and cause; exit 1 on error')
    .action((dir: string) => {
      try {
        const set = loadRuleSet(dir, DEFAULT_FEATURE_SET);
        console.log(`ok: ${set.rules.length} enabled rules, version ${set.version}`);
      } catch (err) {
        if (!(err instanceof RuleCompileError)) throw err;
        console.error(`error: ${err.message}`);
        process.exitCode = 1;
      }
    });
}
