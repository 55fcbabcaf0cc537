// The fault suite's command (scripts/faults.sh starts the services and runs this):
//   node --import tsx test/faults/main.ts [--profile short|full] [--scenario NAME[,NAME]] [--json FILE] [--keep] [--seed N]
// Runs the scenarios one after another, prints the table, and exits 1 when a must-be-0
// column is not 0 or a scenario could not be run to its verdict.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
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
  try {
    let next = prepareStage(stages[0]);
    for (let i = 0; i < stages.length; i++) {
      const prepared = await next;
      say(`${prepared.map((p) => p.scenario).join(' and ')}: faults`);
      const exercised = await Promise.all(prepared.map((p) => ('error' in p ? Promise.resolve(p) : exercise(suite, p))));
      next = prepareStage(stages[i + 1]);
      for (const outcome of await Promise.all(exercised.map((e) => ('error' in e ? Promise.resolve(e) : conclude(suite, e))))) {
        outcomes.push(outcome);
        say(`${outcome.scenario}: ${failures(outcome).length === 0 ? 'pass' : `FAIL: ${failures(outcome).join('; ')}`} (${Math.round(outcome.seconds)} s)`);
      }
    }
  } finally {
    await cluster.close();
  }
  const report: SuiteReport = { profile: profile.name, runId, startedAt: new Date(started).toISOString(), seconds: (Date.now() - started) / 1000, passed: outcomes.every((o) => failures(o).length === 0), scenarios: outcomes, table: table(outcomes) };
  const json = JSON.stringify(report, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
  writeFileSync(join(runDir, 'report.json'), json);
  if (values.json) writeFileSync(values.json, json);
  console.log(`\nfault suite, profile ${profile.name}, ${Math.round(report.seconds)} s (report: ${join(runDir, 'report.json')})\n`);
  console.log(report.table);
  console.log(`\n${details(outcomes)}`);
  return report.passed ? 0 : 1;
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
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`[faults] ${err.stack ?? err.message}`);
    process.exit(2);
  },
);
