// A running worker reloads its rules and lists on SIGHUP and when their files change: a valid
// version replaces the old one, an invalid one is refused with file and line, and the running
// version stays.
import { cpSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runWorker, type WorkerProcess } from '../helpers/cli.js';
import { testWorld } from '../helpers/worker.js';

/** A worker process on fresh topics reading its rules from `dir`, and its rules version as /metrics shows it. */
async function workerWithRules(dir: string, overrides: Record<string, string> = {}): Promise<{ worker: WorkerProcess; metrics: () => Promise<string>; version: () => Promise<string | undefined> }> {
  const world = testWorld({ RULES_DIR: dir, ...overrides });
  await world.setup();
  const worker = await runWorker(world.config);
  const version = async (): Promise<string | undefined> => /fraud_detector_rules_info\{version="([^"]+)"\} 1/.exec(await worker.metrics())?.[1];
  return { worker, metrics: worker.metrics, version };
}

describe('rules reload on SIGHUP', () => {
  it('swaps in a valid version and refuses an invalid one, keeping the running version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-reload-'));
    cpSync('rules/default.yaml', join(dir, 'default.yaml'));
    const { worker, metrics, version } = await workerWithRules(dir, { RULES_WATCH: 'false' });
    try {
      await expect.poll(version, { timeout: 30_000 }).toMatch(/^1@/);
      const first = await version();

      writeFileSync(join(dir, 'default.yaml'), 'version: 2\nrules:\n  - id: broken\n    action: review\n    expression: event.amount >\n');
      worker.child.kill('SIGHUP');
      await expect.poll(metrics, { timeout: 10_000 }).toMatch(/fraud_detector_reloads_total\{kind="rules",result="failure"\} 1/);
      expect(await version()).toBe(first);
      expect(worker.output()).toMatch(/default\.yaml:5:\d+ rule broken/);

      writeFileSync(join(dir, 'default.yaml'), 'version: 3\nrules:\n  - id: big\n    action: block\n    expression: event.amount > 10000.0\n');
      worker.child.kill('SIGHUP');
      await expect.poll(version, { timeout: 10_000 }).toMatch(/^3@/);
      expect(await metrics()).toMatch(/fraud_detector_reloads_total\{kind="rules",result="success"\} 1/);
    } finally {
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
  });
});

describe('rules reload on a file change', () => {
  it('picks up a changed rules file and a new list without a signal, and refuses a bad list', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-watch-'));
    cpSync('rules/default.yaml', join(dir, 'default.yaml'));
    const { worker, metrics, version } = await workerWithRules(dir);
    try {
      await expect.poll(version, { timeout: 30_000 }).toMatch(/^1@/);
      // Written elsewhere and renamed in, as a ConfigMap update swaps its files.
      mkdirSync(join(dir, 'lists'));
      writeFileSync(join(dir, 'lists', 'stolen_cards.txt'), 'card-9\n');
      writeFileSync(join(dir, 'next.tmp'), 'version: 2\nrules:\n  - id: stolen\n    action: block\n    expression: has(event.cardId) && event.cardId in lists.stolen_cards\n');
      renameSync(join(dir, 'next.tmp'), join(dir, 'default.yaml'));
      await expect.poll(version, { timeout: 10_000 }).toMatch(/^2@/);
      const two = await version();
      writeFileSync(join(dir, 'lists', 'stolen_cards.txt'), 'card-9\ncard-10\n');
      await expect.poll(version, { timeout: 10_000 }).not.toBe(two);
      const three = await version();
      writeFileSync(join(dir, 'lists', 'Bad Name.txt'), 'x\n');
      await expect.poll(metrics, { timeout: 10_000 }).toMatch(/fraud_detector_reloads_total\{kind="rules",result="failure"\} 1/);
      expect(await version()).toBe(three);
      expect(worker.output()).toMatch(/Bad Name\.txt: list name/);
    } finally {
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
  });
});
