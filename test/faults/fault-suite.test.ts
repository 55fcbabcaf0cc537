// The fault suite's short profile, as CI runs it inside the regular test run (every scenario
// at-least-once, then every fault at once with exactly-once output): scripts/faults.sh
// starts the suite's own services (a 3-broker KRaft cluster and a Redis with AOF, beside the
// regular ones), runs every scenario against real workers, and this test asserts its table:
// nothing lost, no redelivered transaction decided differently, no lag after the drain, every
// drain exits 0. The services are stopped and their data deleted afterwards. Each run has a
// deadline well inside its test's timeout: a scenario that hangs is reported with its last
// steps, never a bare timeout.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isError, type SuiteReport } from './report.js';
import { SCENARIOS } from './scenario.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Process groups of fault suites still running: killed after the tests, whatever happened. */
const running = new Set<number>();

function faults(args: string[]): Promise<{ code: number | null; output: string }> {
  // Its own process group, so that its workers, producer and tools go with it.
  const child = spawn(join(ROOT, 'scripts', 'faults.sh'), args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (child.pid !== undefined) running.add(child.pid);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      if (child.pid !== undefined) running.delete(child.pid);
      resolve({ code, output });
    }),
  );
}

describe('fault suite, short profile', () => {
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        for (const pid of running) {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        execFile(join(ROOT, 'scripts', 'services.sh'), ['down', '--faults', '--purge'], () => resolve());
      }),
    120_000,
  );

  it('every scenario: nothing lost, redelivered decisions unchanged, no lag after the drain, drains exit 0', async () => {
    await runAndCheck(['--profile', 'short', '--deadline', String(15 * 60)], Object.keys(SCENARIOS), 'at-least-once');
  }, 18 * 60_000);

  // Exactly-once output (transactions.ts): every fault at once, and read_committed subscribers
  // must see each input decided once and each alert once.
  it('exactly-once, every fault at once: the same, and no input nor alert seen twice', async () => {
    await runAndCheck(['--profile', 'short', '--scenario', 'all', '--guarantee', 'exactly-once', '--deadline', String(6 * 60)], ['all'], 'exactly-once');
  }, 8 * 60_000);
});

async function runAndCheck(args: string[], scenarios: string[], guarantee: 'at-least-once' | 'exactly-once'): Promise<void> {
  const json = join(mkdtempSync(join(tmpdir(), 'fd-faults-')), 'report.json');
  // dist/ is built by the test run's setup; other test files run it meanwhile, so no rebuild.
  const run = await faults([...args, '--json', json, '--no-build']);
  let report: SuiteReport;
  try {
    report = JSON.parse(readFileSync(json, 'utf8')) as SuiteReport;
  } catch {
    throw new Error(`the fault suite wrote no report (exit ${run.code}):\n${run.output.slice(-4000)}`);
  }
  // On a failure: the table, and what the suite printed (each scenario's steps and verdict).
  const why = `\n${report.table}\n(logs: .local/faults/runs/${report.runId})\n${run.output.slice(-6000)}`;
  expect(report.scenarios.map((s) => s.scenario), why).toEqual(scenarios);
  for (const s of report.scenarios) {
    if (isError(s)) {
      expect.soft(s.error, `${s.scenario} did not run to its verdict`).toBe('');
      continue;
    }
    expect(s.guarantee, `${s.scenario}: the guarantee it ran with`).toBe(guarantee);
    const mustBeZero: Record<string, number> = {
      'redelivered, changed': s.verdict.redeliveredChanged,
      lost: s.verdict.lost,
      misrouted: s.verdict.misrouted,
      orphans: s.verdict.orphans,
      'alerts ≠ non-allows': s.verdict.alertMismatches,
      'lag after drain': s.lag,
      'labels lag': s.labelsLag,
      'drain exits ≠ 0': s.drainFailures,
      'redis diff': s.redis.differing,
      'ready in outage': s.stayedReadyInOutage ?? 0,
      'producer failures': s.producer.failed,
    };
    if (guarantee === 'exactly-once') {
      mustBeZero.redelivered = s.verdict.redelivered;
      mustBeZero['duplicate alerts'] = s.verdict.duplicateAlerts;
    }
    expect.soft(mustBeZero, `${s.scenario}${why}`).toEqual(Object.fromEntries(Object.keys(mustBeZero).map((k) => [k, 0])));
    expect.soft(s.cleanRun, `${s.scenario}: the clean reference run`).toEqual({ exit: 0, caughtUp: true });
    expect.soft(s.verdict.eventsIn, `${s.scenario}: input`).toBeGreaterThan(0);
  }
  expect(run.code, why).toBe(report.passed ? 0 : 1);
}
