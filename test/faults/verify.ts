// The fault suite's verifier over what the topics hold, in the style of Kafka's
// EosTestDriver: every input (by partition and offset) has a decision or a dead letter,
// deliberately malformed inputs and only they are dead-lettered, a transaction decided more
// than once got the same decision each time (everything but decidedAt), and the alerts are
// exactly the decisions that are not allows. Pure: it sees records, not Kafka.
import { MALFORMED_HEADER } from './input.js';
import type { TopicRecord } from './read-topics.js';

export interface OutputsToVerify {
  inputTopic: string;
  inputs: readonly TopicRecord[];
  decisions: readonly TopicRecord[];
  alerts: readonly TopicRecord[];
  deadLetters: readonly TopicRecord[];
}

export interface OutputVerdict {
  eventsIn: number;
  /** Input records whose transaction id an earlier input record already had (the input producer's duplicates). */
  duplicateInputs: number;
  /** Inputs with at least one decision. */
  decided: number;
  /** Inputs with at least one dead letter. */
  deadLettered: number;
  /** Inputs with more than one output record (decisions or dead letters). */
  redelivered: number;
  /** Transactions decided more than once whose later decisions differ from their first (must be 0). */
  redeliveredChanged: number;
  /** Inputs with neither a decision nor a dead letter (must be 0). */
  lost: number;
  /** Valid inputs dead-lettered, or malformed ones decided (must be 0). */
  misrouted: number;
  /** Decisions or dead letters that match no input (must be 0). */
  orphans: number;
  /** Alerts that are no non-allow decision, plus non-allow decisions with no alert (must be 0). */
  alertMismatches: number;
  /** Transactions with more than one alert (at-least-once allows them; exactly-once must have none). */
  duplicateAlerts: number;
  /** A few of each problem, to start looking from. */
  examples: string[];
}

const MAX_EXAMPLES = 12;

interface InputOutcome {
  record: TopicRecord;
  malformed: boolean;
  transactionId: string | null;
  decisions: number;
  deadLetters: number;
}

export function verifyOutputs(o: OutputsToVerify): OutputVerdict {
  const examples: string[] = [];
  const note = (text: string): void => void (examples.length < MAX_EXAMPLES && examples.push(text));
  const byPosition = new Map<string, InputOutcome>();
  // A transaction id at several offsets (the producer sent it twice): one decision covers them all.
  const byTransaction = new Map<string, InputOutcome[]>();
  for (const record of o.inputs) {
    const malformed = record.headers[MALFORMED_HEADER] !== undefined;
    const outcome: InputOutcome = { record, malformed, transactionId: malformed ? null : transactionIdOf(record.value), decisions: 0, deadLetters: 0 };
    byPosition.set(position(record.partition, record.offset), outcome);
    if (outcome.transactionId !== null) byTransaction.set(outcome.transactionId, [...(byTransaction.get(outcome.transactionId) ?? []), outcome]);
  }
  const duplicateInputs = [...byTransaction.values()].reduce((n, same) => n + same.length - 1, 0);
  let orphans = 0;
  const decisionsById = new Map<string, TopicRecord[]>();
  for (const d of o.decisions) {
    const id = transactionIdOf(d.value);
    const inputs = id === null ? undefined : byTransaction.get(id);
    if (id === null || inputs === undefined) {
      orphans++;
      note(`decision ${d.partition}/${d.offset} (${id ?? 'unreadable'}) matches no input`);
      continue;
    }
    for (const input of inputs) input.decisions++;
    decisionsById.set(id, [...(decisionsById.get(id) ?? []), d]);
  }
  for (const dl of o.deadLetters) {
    const h = dl.headers;
    const input = h['fd.source.topic'] === o.inputTopic ? byPosition.get(position(Number(h['fd.source.partition']), BigInt(h['fd.source.offset'] ?? '-1'))) : undefined;
    if (input === undefined) {
      orphans++;
      note(`dead letter ${dl.partition}/${dl.offset} names ${h['fd.source.topic']}/${h['fd.source.partition']}/${h['fd.source.offset']}, no input`);
      continue;
    }
    input.deadLetters++;
  }
  const counts = countOutcomes(byPosition, note);
  const redeliveredChanged = countChanged(decisionsById, note);
  const alertMismatches = compareAlerts(o.decisions, o.alerts, note);
  const alertsById = new Map<string, number>();
  for (const a of o.alerts) {
    const id = transactionIdOf(a.value);
    if (id !== null) alertsById.set(id, (alertsById.get(id) ?? 0) + 1);
  }
  const duplicateAlerts = [...alertsById.values()].filter((n) => n > 1).length;
  return { eventsIn: o.inputs.length, duplicateInputs, ...counts, redeliveredChanged, orphans, alertMismatches, duplicateAlerts, examples };
}

function countOutcomes(inputs: Map<string, InputOutcome>, note: (text: string) => void): Pick<OutputVerdict, 'decided' | 'deadLettered' | 'redelivered' | 'lost' | 'misrouted'> {
  const c = { decided: 0, deadLettered: 0, redelivered: 0, lost: 0, misrouted: 0 };
  for (const [at, input] of inputs) {
    if (input.decisions > 0) c.decided++;
    if (input.deadLetters > 0) c.deadLettered++;
    if (input.decisions + input.deadLetters > 1) c.redelivered++;
    if (input.decisions + input.deadLetters === 0) {
      c.lost++;
      note(`input ${at}${input.transactionId ? ` (${input.transactionId})` : ' (malformed)'}: no decision, no dead letter`);
    } else if (input.malformed ? input.decisions > 0 : input.deadLetters > 0) {
      c.misrouted++;
      note(`input ${at}: ${input.malformed ? 'malformed but decided' : `valid (${input.transactionId}) but dead-lettered`}`);
    }
  }
  return c;
}

/** Each redelivered transaction's later decisions against its first, decidedAt aside. */
function countChanged(decisionsById: Map<string, TopicRecord[]>, note: (text: string) => void): number {
  let changed = 0;
  for (const [id, records] of decisionsById) {
    if (records.length < 2) continue;
    const [first, ...later] = records.map((r) => comparable(r.value));
    const differing = later.find((d) => canonical(d) !== canonical(first));
    if (differing === undefined) continue;
    changed++;
    note(`${id} decided again differently: ${differences(first, differing).slice(0, 4).join('; ')}`);
  }
  return changed;
}

/**
 * Alerts are exactly the non-allow decisions, same content. decidedAt aside, as for a
 * redelivery: the two topics are written by one send, which can deliver one topic's message
 * and fail the other's; the batch is then decided and sent again.
 */
function compareAlerts(decisions: readonly TopicRecord[], alerts: readonly TopicRecord[], note: (text: string) => void): number {
  const alertValues = new Set(alerts.map((a) => canonical(comparable(a.value))));
  const expected = new Set(decisions.map((d) => comparable(d.value)).filter((d) => d.decision !== 'allow').map(canonical));
  let mismatches = 0;
  for (const v of alertValues) {
    if (expected.has(v)) continue;
    mismatches++;
    note(`alert ${describe(v)} is no non-allow decision`);
  }
  for (const v of expected) {
    if (alertValues.has(v)) continue;
    mismatches++;
    note(`non-allow decision ${describe(v)} has no alert`);
  }
  return mismatches;
}

const position = (partition: number, offset: bigint): string => `${partition}/${offset}`;

function transactionIdOf(value: Buffer | null): string | null {
  const id = (comparable(value) as { transactionId?: unknown }).transactionId;
  return typeof id === 'string' ? id : null;
}

/** The record's JSON without decidedAt; {} when it is not a JSON object. */
function comparable(value: Buffer | null): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(value?.toString() ?? '');
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    const rest = { ...(parsed as Record<string, unknown>) };
    delete rest.decidedAt;
    return rest;
  } catch {
    return {};
  }
}

/** JSON with sorted keys: equal values give equal text. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Where two JSON values differ, as `path: a → b`. */
export function differences(a: unknown, b: unknown, path = ''): string[] {
  if (canonical(a) === canonical(b)) return [];
  const objects = a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b);
  if (!objects) return [`${path || '(value)'}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
}

function describe(value: string): string {
  const d = JSON.parse(value) as { transactionId?: string; decision?: string; score?: number };
  return `${d.transactionId ?? '?'} (${d.decision ?? '?'}, score ${d.score ?? '?'})`;
}
