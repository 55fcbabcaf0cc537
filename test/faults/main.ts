// The fault suite's command (scripts/faults.sh starts the services and runs this):
//   node --import tsx test/faults/main.ts [--profile short|full] [--scenario NAME[,NAME]] [--json FILE] [--keep] [--seed N]
//                                         [--deadline SECONDS]
// Runs the scenarios one after another, prints the table, and exits 1 when a must-be-0
// column is not 0 or a scenario could not be run to its verdict. With --deadline, the
// scenarios still running then are stopped and reported as not run to their verdict, with the
// last steps of their timelines, and the report is written all the same.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DeadlineError, killStragglers, within } from './bounds.js';
import { FAULTS_DIR, FaultCluster, faultServices } from './cluster.js';
import { PROFILES, type Profile } from './profiles.js';
import { details, failures, table, type ScenarioError, type ScenarioOutcome, type SuiteReport } from './report.js';
import { conclude, exercise, ISOLATED, prepareScenario, scenarioError, SCENARIOS, type PreparedScenario, type SuiteContext } from './scenario.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      profile: { type: 'string', default: 'full' },
      scenario: { type: 'string', multiple: true },
      json: { type: 'string' },
      keep: { type: 'boolean', default: false },
      seed: { type: 'string', default: '42' },
      guarantee: { type: 'string', default: 'at-least-once' },
      deadline: { type: 'string' },
    },
  });
  const profile = PROFILES[values.profile as Profile['name']];
  if (profile === undefined) throw new Error(`--profile: short or full, not ${values.profile}`);
  const scenarios = (values.scenario ?? Object.keys(SCENARIOS)).flatMap((s) => s.split(','));
  for (const s of scenarios) if (!(s in SCENARIOS)) throw new Error(`--scenario: no scenario ${s}; scenarios: ${Object.keys(SCENARIOS).join(', ')}`);
  const runId = Date.now().toString(36);
  const runDir = join(FAULTS_DIR, 'runs', runId);
  mkdirSync(runDir, { recursive: true });
  const say = (line: string): void => console.log(`[faults] ${line}`);
  const cluster = new FaultCluster(faultServices(), join(runDir, 'services.log'));
  const suite: SuiteContext = { services: cluster.services, cluster, profile, runId, runDir, seed: Number(values.seed), keep: values.keep, guarantee: values.guarantee === 'exactly-once' ? 'exactly-once' : 'at-least-once', say };
  say(`profile ${profile.name}, scenarios ${scenarios.join(', ')}; logs in ${runDir}`);
  const started = Date.now();
  const deadlineMs = values.deadline === undefined ? Infinity : started + Number(values.deadline) * 1000;
  if (Number.isNaN(deadlineMs)) throw new Error(`--deadline: seconds, not ${values.deadline}`);
  const outcomes: ScenarioOutcome[] = [];
  // Resolves to the prepared scenario or to what stopped it; `up` first, as a scenario that
  // failed midway may have left brokers down.
  const prepare = (scenario: string): Promise<PreparedScenario | ScenarioError> => {
    const t0 = Date.now();
    say(`${scenario}: preparing`);
    return cluster.servicesScript('up').then(() => prepareScenario(suite, scenario)).catch((err: unknown) => scenarioError(scenario, t0, err));
  };
  // A stage's scenarios run side by side; the next stage prepares while this one's clean runs
  // and verification go on, and its faults wait for them.
  const prepareStage = (stage: string[] | undefined): Promise<(PreparedScenario | ScenarioError)[]> => Promise.all((stage ?? []).map(prepare));
  const stages = stagesOf(scenarios);
  const report = (outcome: ScenarioOutcome): void => {
    outcomes.push(outcome);
    say(`${outcome.scenario}: ${failures(outcome).length === 0 ? 'pass' : `FAIL: ${failures(outcome).join('; ')}`} (${Math.round(outcome.seconds)} s)`);
  };
  // Whatever a stage awaits is cut off at the suite's deadline.
  const beforeDeadline = <T>(work: Promise<T>): Promise<T> => (deadlineMs === Infinity ? work : within(work, Math.max(0, deadlineMs - Date.now()), "the suite's --deadline"));
  let i = 0;
  let current: string[] = [];
  const timelines = new Map<string, string[]>();
  try {
    let next = prepareStage(stages[0]);
    for (; i < stages.length; i++) {
      current = stages[i] as string[];
      const prepared = await beforeDeadline(next);
      for (const p of prepared) if (!('error' in p)) timelines.set(p.scenario, p.timeline);
      say(`${prepared.map((p) => p.scenario).join(' and ')}: faults`);
      const exercised = await beforeDeadline(Promise.all(prepared.map((p) => ('error' in p ? Promise.resolve(p) : exercise(suite, p)))));
      next = prepareStage(stages[i + 1]);
      for (const outcome of await beforeDeadline(Promise.all(exercised.map((e) => ('error' in e ? Promise.resolve(e) : conclude(suite, e)))))) report(outcome);
    }
  } catch (err) {
    if (!(err instanceof DeadlineError)) throw err;
    // The stage that ran into the deadline, with where each of its scenarios was; the stages
    // after it never ran.
    for (const scenario of current) {
      const steps = (timelines.get(scenario) ?? []).slice(-8).join('\n  ');
      report({ scenario, seconds: (Date.now() - started) / 1000, error: `did not reach its verdict by the suite's deadline (--deadline ${values.deadline} s); its last steps:\n  ${steps || '(none: still preparing)'}` });
    }
    for (const scenario of stages.slice(i + 1).flat()) report({ scenario, seconds: 0, error: `not run: the suite's deadline (--deadline ${values.deadline} s) had passed` });
  } finally {
    const killed = killStragglers();
    if (killed > 0) say(`killed ${killed} processes the suite had started and that still ran`);
    await within(cluster.close(), 30_000, 'closing the admin client').catch(() => undefined);
  }
  const suiteReport: SuiteReport = { profile: profile.name, runId, startedAt: new Date(started).toISOString(), seconds: (Date.now() - started) / 1000, passed: outcomes.every((o) => failures(o).length === 0), scenarios: outcomes, table: table(outcomes) };
  const json = JSON.stringify(suiteReport, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
  writeFileSync(join(runDir, 'report.json'), json);
  if (values.json) writeFileSync(values.json, json);
  console.log(`\nfault suite, profile ${profile.name}, ${Math.round(suiteReport.seconds)} s (report: ${join(runDir, 'report.json')})\n`);
  console.log(suiteReport.table);
  console.log(`\n${details(outcomes)}`);
  return suiteReport.passed ? 0 : 1;
}

/** Consecutive scenarios whose faults touch only their own workers share a stage; the others run alone. */
function stagesOf(scenarios: string[]): string[][] {
  const stages: string[][] = [];
  for (const s of scenarios) {
    const last = stages.at(-1);
    if (last !== undefined && ISOLATED.has(s) && last.every((x) => ISOLATED.has(x))) last.push(s);
    else stages.push([s]);
  }
  return stages;
}

main().then(
  (code) => {
    // A scenario cut off at the deadline may have started a worker since.
    killStragglers();
    process.exit(code);
  },
  (err: Error) => {
    console.error(`[faults] ${err.stack ?? err.message}`);
    process.exit(2);
  },
);
