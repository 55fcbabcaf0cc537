// The fault suite's table: one row per scenario; the columns marked * must be 0, and any
// that is not fails the run. A scenario the harness could not run to its verdict fails too.
import type { Profile } from './profiles.js';
import type { ScenarioResult } from './scenario.js';

/** What a run of the suite writes to its report.json (and --json). */
export interface SuiteReport {
  profile: Profile['name'];
  runId: string;
  startedAt: string;
  seconds: number;
  passed: boolean;
  scenarios: ScenarioOutcome[];
  table: string;
}

export interface ScenarioError {
  scenario: string;
  seconds: number;
  error: string;
}

export type ScenarioOutcome = ScenarioResult | ScenarioError;

interface Column {
  title: string;
  mustBeZero: boolean;
  value: (r: ScenarioResult) => number | string;
}

export const COLUMNS: Column[] = [
  { title: 'events in', mustBeZero: false, value: (r) => r.verdict.eventsIn },
  { title: 'decided', mustBeZero: false, value: (r) => r.verdict.decided },
  { title: 'dead-lettered', mustBeZero: false, value: (r) => r.verdict.deadLettered },
  { title: 'redelivered', mustBeZero: false, value: (r) => r.verdict.redelivered },
  { title: 'redelivered, changed', mustBeZero: true, value: (r) => r.verdict.redeliveredChanged },
  { title: 'lost', mustBeZero: true, value: (r) => r.verdict.lost },
  { title: 'misrouted', mustBeZero: true, value: (r) => r.verdict.misrouted },
  { title: 'orphans', mustBeZero: true, value: (r) => r.verdict.orphans },
  { title: 'alerts ≠ non-allows', mustBeZero: true, value: (r) => r.verdict.alertMismatches },
  { title: 'lag after drain', mustBeZero: true, value: (r) => r.lag },
  // Labels feed features: one left unread is a feature value lost.
  { title: 'labels lag', mustBeZero: true, value: (r) => r.labelsLag },
  { title: 'drain exits ≠ 0', mustBeZero: true, value: (r) => r.drainFailures },
  { title: 'drains', mustBeZero: false, value: (r) => r.drains.length },
  { title: 'redis diff', mustBeZero: true, value: (r) => r.redis.differing },
  { title: 'ready in outage', mustBeZero: true, value: (r) => (r.stayedReadyInOutage === null ? '-' : r.stayedReadyInOutage) },
  { title: 'seconds', mustBeZero: false, value: (r) => Math.round(r.seconds) },
];

export function isError(o: ScenarioOutcome): o is ScenarioError {
  return 'error' in o;
}

/** Why a scenario fails: the must-be-0 columns that are not, and what made its verdict untrustworthy. */
export function failures(o: ScenarioOutcome): string[] {
  if (isError(o)) return [`not run to its verdict: ${o.error}`];
  const out = COLUMNS.filter((c) => c.mustBeZero && typeof c.value(o) === 'number' && c.value(o) !== 0).map((c) => `${c.title}: ${c.value(o)}`);
  if (o.guarantee === 'exactly-once' && o.verdict.redelivered > 0) out.push(`redelivered: ${o.verdict.redelivered} (exactly-once: read_committed must see each input once)`);
  if (o.guarantee === 'exactly-once' && o.verdict.duplicateAlerts > 0) out.push(`duplicate alerts: ${o.verdict.duplicateAlerts} (exactly-once: read_committed must see each alert once)`);
  if (o.producer.failed > 0) out.push(`the producer could not send ${o.producer.failed} messages: the input is not what was planned`);
  if (!o.cleanRun.caughtUp || o.cleanRun.exit !== 0) out.push(`the clean reference run failed (caught up: ${o.cleanRun.caughtUp}, exit ${o.cleanRun.exit}): no Redis comparison`);
  return out;
}

export function table(outcomes: readonly ScenarioOutcome[]): string {
  const header = ['scenario', ...COLUMNS.map((c) => `${c.title}${c.mustBeZero ? ' *' : ''}`)];
  const rows = outcomes.map((o) => (isError(o) ? [o.scenario, `error: ${o.error.split('\n')[0]?.slice(0, 100)}`] : [o.scenario, ...COLUMNS.map((c) => String(c.value(o)))]));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r.length === header.length ? (r[i] as string).length : 0))));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i === 0 || cells.length < header.length ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line), '', '* must be 0'].join('\n');
}

/** Under the table: per scenario, why it failed, a few examples and what the workers logged. */
export function details(outcomes: readonly ScenarioOutcome[]): string {
  const out: string[] = [];
  for (const o of outcomes) {
    const failed = failures(o);
    out.push(`${o.scenario}: ${failed.length === 0 ? 'pass' : `FAIL (${failed.join('; ')})`}`);
    if (isError(o)) continue;
    for (const e of [...o.verdict.examples.slice(0, 5), ...o.redis.examples.slice(0, 3)]) out.push(`  e.g. ${e}`);
    for (const d of o.drains.filter((x) => x.code !== 0)) out.push(`  drain of ${d.worker}: ${d.hung ? 'hung, SIGKILLed' : d.code !== null ? `exit ${d.code}` : `killed by ${d.signal}`} after ${d.seconds.toFixed(1)} s${d.wasReady ? '' : ', told to go before it was ever ready'}`);
    for (const d of o.drains.filter((x) => x.lastWords !== undefined)) for (const w of d.lastWords ?? []) out.push(`    ${d.worker}: ${w}`);
    if (o.verdict.duplicateInputs > 0) out.push(`  ${o.verdict.duplicateInputs} input records repeat an earlier transaction id (the producer sent them twice)`);
    for (const l of o.workerLogs.slice(0, 6)) out.push(`  log ×${l.count}: ${l.line}`);
    out.push(`  logs: ${o.logDir}`);
  }
  return out.join('\n');
}
