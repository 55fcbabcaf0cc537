// The fault suite's verifier must fail on broken output, or its passes prove nothing: a worker
// that commits before producing (a crash loses inputs), one that applies a redelivered event
// twice (a changed redelivered decision, a Redis state counting it twice), and alerts that are
// not exactly the non-allow decisions. And it passes on good output, redeliveries included.
import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURE_SET } from '../../src/features/definitions.js';
import { observeEvent, StateArena } from '../../src/features/entity-state.js';
import { decodeState, encodeState } from '../../src/features/state-codec.js';
import { Observations, type EntityEvent } from '../../src/features/store.js';
import { stateSpec } from '../../src/features/windows.js';
import { MALFORMED_HEADER } from '../faults/input.js';
import type { TopicRecord } from '../faults/read-topics.js';
import { failures, table } from '../faults/report.js';
import type { ScenarioResult } from '../faults/scenario.js';
import { compareStates } from '../faults/state-compare.js';
import { verifyOutputs, type OutputsToVerify } from '../faults/verify.js';

const INPUT = 'tx';
const LATENESS = 900_000;

function record(topic: string, partition: number, offset: number, value: unknown, headers: Record<string, string> = {}): TopicRecord {
  return { topic, partition, offset: BigInt(offset), key: null, value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), headers };
}

interface Decided {
  transactionId: string;
  decision: 'allow' | 'review' | 'block';
  score: number;
  features: { account: { count_1h: number } };
}

/** A decision as the worker writes it (decidedAt varies between deliveries). */
function decisionJson(d: Decided, decidedAt = '2026-03-03T01:00:01.000Z'): string {
  return JSON.stringify({ schemaVersion: 1, transactionId: d.transactionId, accountId: 'acct-1', decision: d.decision, score: d.score, ruleHits: [], decidedAt, features: d.features });
}

/**
 * A good run: 20 transactions on 2 partitions and 2 malformed inputs; every transaction
 * decided (every 5th a review), the malformed ones dead-lettered, alerts = the reviews.
 */
function goodRun(): OutputsToVerify & { decided: Decided[] } {
  const inputs: TopicRecord[] = [];
  const decided: Decided[] = [];
  for (let i = 0; i < 22; i++) {
    const partition = i % 2;
    const offset = Math.floor(i / 2);
    if (i === 7 || i === 15) {
      inputs.push(record(INPUT, partition, offset, '{"transactionId": "bro', { [MALFORMED_HEADER]: 'not-json' }));
      continue;
    }
    inputs.push(record(INPUT, partition, offset, { transactionId: `t-${i}`, accountId: 'acct-1', amount: 10 }));
    decided.push({ transactionId: `t-${i}`, decision: i % 5 === 0 ? 'review' : 'allow', score: i / 100, features: { account: { count_1h: 1 } } });
  }
  const decisions = decided.map((d, k) => record('decisions', 0, k, decisionJson(d)));
  const alerts = decisions.filter((_, k) => decided[k]?.decision !== 'allow').map((d, k) => ({ ...d, topic: 'alerts', offset: BigInt(k) }));
  const deadLetters = inputs
    .filter((r) => r.headers[MALFORMED_HEADER] !== undefined)
    .map((r, k) => record('dlq', 0, k, r.value?.toString() ?? null, { 'fd.error.code': 'FD_EVENT_NOT_JSON', 'fd.source.topic': INPUT, 'fd.source.partition': String(r.partition), 'fd.source.offset': String(r.offset) }));
  return { inputTopic: INPUT, inputs, decisions, alerts, deadLetters, decided };
}

const MUST_BE_ZERO = ['redeliveredChanged', 'lost', 'misrouted', 'orphans', 'alertMismatches'] as const;

function mustBeZero(v: ReturnType<typeof verifyOutputs>): Record<string, number> {
  return Object.fromEntries(MUST_BE_ZERO.map((k) => [k, v[k]]));
}

describe('fault suite verifier: outputs', () => {
  it('passes good output, a redelivery with the same decision (another decidedAt) included', () => {
    const run = goodRun();
    const again = run.decided[3] as Decided;
    const redelivered = { ...run, decisions: [...run.decisions, record('decisions', 0, 100, decisionJson(again, '2026-03-03T01:05:00.000Z'))] };
    const v = verifyOutputs(redelivered);
    expect(mustBeZero(v)).toEqual({ redeliveredChanged: 0, lost: 0, misrouted: 0, orphans: 0, alertMismatches: 0 });
    expect(v).toMatchObject({ eventsIn: 22, decided: 20, deadLettered: 2, redelivered: 1 });
  });

  it('fails a worker that commits before producing: after its crash, inputs have neither a decision nor a dead letter', () => {
    const run = goodRun();
    // Committed through partition 1's offset 6, crashed before producing offsets 3-6; the next
    // owner starts after the commit, so they are never decided. One malformed input is among them.
    const lostIds = new Set(run.inputs.filter((r) => r.partition === 1 && r.offset >= 3n && r.offset <= 6n).map((r) => `1/${r.offset}`));
    const idsLost = new Set(run.inputs.filter((r) => lostIds.has(`${r.partition}/${r.offset}`)).map((r) => r.value?.toString() ?? ''));
    const decisions = run.decisions.filter((d) => ![...idsLost].some((v) => v.includes(`"${(JSON.parse(d.value?.toString() ?? '{}') as { transactionId: string }).transactionId}"`)));
    const alerts = run.alerts.filter((a) => decisions.some((d) => d.value?.equals(a.value as Buffer)));
    const deadLetters = run.deadLetters.filter((d) => !lostIds.has(`${d.headers['fd.source.partition']}/${d.headers['fd.source.offset']}`));
    const v = verifyOutputs({ ...run, decisions, alerts, deadLetters });
    expect(v.lost).toBe(4);
    expect(v.examples.join('\n')).toMatch(/input 1\/3 .*no decision, no dead letter/);
  });

  it('fails a worker that applies a redelivered event twice: the redelivered decision saw other features', () => {
    const run = goodRun();
    const first = run.decided[4] as Decided;
    const twice = { ...first, features: { account: { count_1h: 2 } } };
    const v = verifyOutputs({ ...run, decisions: [...run.decisions, record('decisions', 0, 100, decisionJson(twice))] });
    expect(v.redeliveredChanged).toBe(1);
    expect(v.examples.join('\n')).toContain(`${first.transactionId} decided again differently: features.account.count_1h: 1 → 2`);
  });

  it('fails alerts that are not exactly the non-allow decisions', () => {
    const run = goodRun();
    const [kept, , ...rest] = run.alerts;
    const allow = run.decisions.find((d) => d.value?.toString().includes('"allow"')) as TopicRecord;
    const rescored = { ...(rest[0] as TopicRecord), value: Buffer.from((rest[0] as TopicRecord).value?.toString().replace(/"score":[0-9.]+/, '"score":0.99') ?? '') };
    // One review without an alert, an allow alerted, an alert whose score is not its decision's.
    const v = verifyOutputs({ ...run, alerts: [kept as TopicRecord, { ...allow, topic: 'alerts' }, rescored, ...rest.slice(1)] });
    expect(v.alertMismatches).toBe(4);
    expect(v.examples.join('\n')).toMatch(/has no alert/);
    expect(v.examples.join('\n')).toMatch(/\(allow, score .*\) is no non-allow decision/);
  });

  it('fails a valid input dead-lettered (as an outage must not cause) and outputs that match no input', () => {
    const run = goodRun();
    const valid = run.inputs[0] as TopicRecord;
    const wrong = record('dlq', 0, 50, valid.value?.toString() ?? '', { 'fd.source.topic': INPUT, 'fd.source.partition': '0', 'fd.source.offset': '0' });
    const stray = record('dlq', 0, 51, 'x', { 'fd.source.topic': INPUT, 'fd.source.partition': '0', 'fd.source.offset': '999' });
    const phantom = record('decisions', 0, 99, decisionJson({ transactionId: 'nobody', decision: 'allow', score: 0, features: { account: { count_1h: 1 } } }));
    const v = verifyOutputs({ ...run, deadLetters: [...run.deadLetters, wrong, stray], decisions: [...run.decisions, phantom] });
    expect(v.misrouted).toBe(1);
    expect(v.orphans).toBe(2);
  });
});

const ACCOUNT_WINDOWS = DEFAULT_FEATURE_SET.entities.find((e) => e.entity === 'account')?.windows ?? [];
const KEY = '{account:acct-1}:0a1b2c3d';

/** The account's state after these events, through the project's own window algorithm and codec. */
function stateAfter(events: EntityEvent[], version = 1): Buffer {
  const spec = stateSpec(ACCOUNT_WINDOWS, LATENESS);
  const { state } = decodeState(null, spec, new StateArena());
  const out = new Observations([{ entity: 'account', id: 'acct-1', windows: ACCOUNT_WINDOWS, events }]);
  events.forEach((e, i) => observeEvent(state, spec, e, out, out.row(0, i), out.aggregateAt(0, i)));
  return encodeState(state, version, spec);
}

const t0 = Date.parse('2026-03-03T01:00:00Z');
const payments: EntityEvent[] = Array.from({ length: 40 }, (_, i) => ({ transactionId: `t-${i}`, eventTimeMs: t0 + i * 7000, amount: 0.1 + ((i * 37) % 100) / 7 }));

describe('fault suite verifier: Redis states', () => {
  it('passes the same events applied in another order (sums equal to a relative 1e-9) and with another version', () => {
    const shuffled = [...payments.slice(20), ...payments.slice(0, 20)].reverse();
    const diff = compareStates(new Map([[KEY, stateAfter(payments, 7)]]), new Map([[KEY, stateAfter(shuffled, 99)]]), DEFAULT_FEATURE_SET, LATENESS);
    expect(diff).toMatchObject({ entities: 1, differing: 0 });
  });

  it('fails a state that counts a redelivered event twice', () => {
    // The dedupe memory no longer knew it (the account had moved past the allowed lateness): counted again.
    const again = { ...(payments[30] as EntityEvent), transactionId: 't-30 (not recognised)' };
    const diff = compareStates(new Map([[KEY, stateAfter([...payments, again])]]), new Map([[KEY, stateAfter(payments)]]), DEFAULT_FEATURE_SET, LATENESS);
    expect(diff.differing).toBe(1);
    expect(diff.examples[0]).toMatch(/count 4\d? vs/);
  });

  it('fails an entity only one run has, and ignores keys that are no entity state', () => {
    const other = '{account:acct-2}:0a1b2c3d';
    const fault = new Map([[KEY, stateAfter(payments)], [other, stateAfter(payments)], ['journal:tx:3', Buffer.from('x')], ['owner:tx:3', Buffer.from('w-1')]]);
    const diff = compareStates(fault, new Map([[KEY, stateAfter(payments)]]), DEFAULT_FEATURE_SET, LATENESS);
    expect(diff).toMatchObject({ entities: 2, differing: 1, onlyInFaultRun: 1, ignored: 2 });
  });
});

describe('fault suite verdict', () => {
  /** A scenario's result around a verdict and a Redis comparison, everything else clean. */
  function result(verdict: ReturnType<typeof verifyOutputs>, redisDiffering = 0, guarantee: ScenarioResult['guarantee'] = 'at-least-once'): ScenarioResult {
    return {
      scenario: 'worker-kill',
      seconds: 1,
      verdict,
      lag: 0,
      labelsLag: 0,
      drains: [{ worker: 'worker-1', code: 0, signal: null, seconds: 0.2, wasReady: true, hung: false }],
      drainFailures: 0,
      redis: { entities: 1, differing: redisDiffering, onlyInFaultRun: 0, onlyInCleanRun: 0, ignored: 0, examples: [] },
      stayedReadyInOutage: null,
      outageWorkers: 0,
      producer: { sent: 22, malformed: 2, labels: 0, failed: 0, errors: [], seconds: 1 },
      caughtUp: true,
      cleanRun: { exit: 0, caughtUp: true },
      guarantee,
      timeline: [],
      workerLogs: [],
      logDir: '',
    };
  }

  it('passes good output and fails the run on a must-be-0 column, naming it in the table', () => {
    expect(failures(result(verifyOutputs(goodRun())))).toEqual([]);
    const run = goodRun();
    const twice = { ...(run.decided[4] as Decided), features: { account: { count_1h: 2 } } };
    const broken = result(verifyOutputs({ ...run, decisions: [...run.decisions, record('decisions', 0, 100, decisionJson(twice))] }), 1);
    expect(failures(broken)).toEqual(['redelivered, changed: 1', 'redis diff: 1']);
    expect(table([broken])).toMatch(/\| worker-kill \|\s+22 \|\s+20 \|\s+2 \|\s+1 \|\s+1 \|\s+0 \|/);
  });

  it('with exactly-once, fails a run whose read_committed outputs hold an input twice, even decided the same way', () => {
    const run = goodRun();
    const again = record('decisions', 0, 100, decisionJson(run.decided[4] as Decided));
    const twice = verifyOutputs({ ...run, decisions: [...run.decisions, again] });
    expect(failures(result(twice, 0, 'at-least-once'))).toEqual([]);
    expect(failures(result(twice, 0, 'exactly-once'))).toEqual(['redelivered: 1 (exactly-once: read_committed must see each input once)']);
    const alertAgain = verifyOutputs({ ...run, alerts: [...run.alerts, ...run.alerts.slice(0, 1)] });
    expect(alertAgain.duplicateAlerts).toBe(run.alerts.length > 0 ? 1 : 0);
    expect(failures(result(alertAgain, 0, 'exactly-once'))).toEqual(['duplicate alerts: 1 (exactly-once: read_committed must see each alert once)']);
  });
});
