// An offline command given its own rules (train's --rules, a backtest's) does not read
// RULES_DIR at all: rules there written for other features must not stop it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { offlinePipeline } from '../../src/cli/build.js';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_FEATURE_SET } from '../../src/features/definitions.js';
import { loadRuleSet } from '../../src/rules/load.js';

function rulesDirReading(feature: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'fd-rules-'));
  writeFileSync(join(dir, 'other.yaml'), `version: 1\nrules:\n  - id: other\n    expression: features.${feature} > 1.0\n    action: review\n    reason: other\n    priority: 10\n`);
  return dir;
}

describe('offline pipeline rules', () => {
  const config = loadConfig({ RULES_DIR: rulesDirReading('merchant.not_a_feature_1h') });

  it('refuses RULES_DIR when it does not fit the features and no rules are given', () => {
    expect(() => offlinePipeline(config, DEFAULT_FEATURE_SET, { decisions: 'alerts' })).toThrow(/not_a_feature_1h/);
  });

  it('uses the rules it is given, without reading RULES_DIR', () => {
    const given = loadRuleSet('rules', DEFAULT_FEATURE_SET, { breakers: false });
    const deps = offlinePipeline(config, DEFAULT_FEATURE_SET, { decisions: 'alerts', rules: given });
    expect(deps.rules()).toBe(given);
  });
});
