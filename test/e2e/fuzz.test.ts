// Fuzzing at scale: 10,000 seeded malformed events (test/helpers/malformed-events.ts), with a
// few valid ones among them, through `run` over real Kafka and through `replay` over a file.
// Each malformed one is dead-lettered (or rejected) with the code the contract gives it, the
// valid ones are decided, nothing crashes and no partition is held up.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import type { TransactionEvent } from '../../src/contract/transaction.js';
import { DLQ_HEADERS } from '../../src/kafka/dlq.js';
import { runCli, runWorker } from '../helpers/cli.js';
import { tx } from '../helpers/events.js';
import { malformedEvents, type MalformedEvent } from '../helpers/malformed-events.js';
import { closePollingAdmin, consumeAll, groupLag, produce, readAll } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

const MAX_EVENT_BYTES = 16_384;
const MALFORMED = malformedEvents(10_000, { seed: 20_261_207, maxBytes: MAX_EVENT_BYTES, maxDepth: 32 });
const VALID_EVERY = 500;

/** The input: the malformed events in order, a valid one before every 500th. */
interface Input {
  key: string;
  value: Buffer | null;
  malformed?: MalformedEvent;
  valid?: TransactionEvent;
}

function inputs(): Input[] {
  const t0 = Date.now() - 3_600_000;
  const out: Input[] = [];
  MALFORMED.forEach((m, i) => {
    if (i % VALID_EVERY === 0) {
      const event = tx({ transactionId: `fuzz-valid-${i}`, accountId: `fuzz-acct-${i % 7}`, cardId: `fuzz-card-${i % 7}`, amount: 10 + (i % 13), timestamp: new Date(t0 + i * 100).toISOString() });
      out.push({ key: event.accountId, value: Buffer.from(JSON.stringify(event)), valid: event });
    }
    out.push({ key: `fuzz-${i}`, value: m.value, malformed: m });
  });
  return out;
}

const INPUTS = inputs();
const VALID = INPUTS.flatMap((i) => (i.valid ? [i.valid] : []));
const BY_KEY = new Map(INPUTS.flatMap((i) => (i.malformed ? [[i.key, i.malformed] as const] : [])));

/** The count of each code the generator expects. */
function expectedCodes(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of MALFORMED) counts.set(m.code, (counts.get(m.code) ?? 0) + 1);
  return counts;
}

const bytesOf = (value: Buffer | null): string => (value === null || value.length === 0 ? '' : value.toString('base64'));

describe('fuzzing', () => {
  afterAll(() => closePollingAdmin());

  it('run: 10,000 malformed events through Kafka are each dead-lettered with their code; the worker stays alive and ready; every partition drains', async () => {
    const world = testWorld({ MAX_EVENT_BYTES: String(MAX_EVENT_BYTES) });
    await world.setup();
    await produce(world.config.TOPIC_TRANSACTIONS, INPUTS.map((i) => ({ key: i.key, value: i.value })));
    const worker = await runWorker(world.config, { LOG_LEVEL: 'error' });
    try {
      const dead = await consumeAll(world.config.TOPIC_DLQ, MALFORMED.length, 90_000);
      expect(dead.length).toBeGreaterThanOrEqual(MALFORMED.length);
      // Valid events produced after all of them, under several keys (so on every partition), are decided.
      const after = Array.from({ length: 12 }, (_, k) => tx({ transactionId: `fuzz-after-${k}`, accountId: `fuzz-after-${k}`, timestamp: new Date().toISOString() }));
      await produce(world.config.TOPIC_TRANSACTIONS, after.map((e) => ({ key: e.accountId, value: JSON.stringify(e) })));
      const decided = await consumeAll(world.config.TOPIC_DECISIONS, VALID.length + after.length, 60_000);
      const decidedIds = decided.map((m) => (JSON.parse((m.value as Buffer).toString()) as Decision).transactionId);
      expect(new Set(decidedIds)).toEqual(new Set([...VALID, ...after].map((e) => e.transactionId)));
      await expect.poll(() => groupLag(world.config.KAFKA_GROUP_ID, world.config.TOPIC_TRANSACTIONS), { timeout: 30_000, interval: 250 }).toBe(0);

      // Every malformed event exactly once in the dead-letter topic, with its code and its bytes unchanged.
      const letters = await readAll(world.config.TOPIC_DLQ);
      expect(letters).toHaveLength(MALFORMED.length);
      const wrong = letters.filter((l) => {
        const m = BY_KEY.get(l.key ?? '');
        return m === undefined || l.headers[DLQ_HEADERS.code] !== m.code || bytesOf(l.value) !== bytesOf(m.value) || !l.headers[DLQ_HEADERS.message];
      });
      expect(wrong.slice(0, 3).map((l) => ({ key: l.key, headers: l.headers }))).toEqual([]);
      expect(new Set(letters.map((l) => l.key)).size).toBe(MALFORMED.length);

      // 0 crashes: still running, ready, no batch failed (a failed batch rewinds its partition), and the counts add up.
      expect(worker.child.exitCode).toBeNull();
      expect((await fetch(`http://127.0.0.1:${worker.port}/readyz`)).status).toBe(200);
      expect(worker.output()).not.toMatch(/batch failed|uncaught|RangeError/i);
      const metrics = await worker.metrics();
      for (const [code, n] of expectedCodes()) expect(metrics).toContain(`fraud_detector_dead_letters_total{code="${code}"} ${n}`);
    } finally {
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
  }, 180_000);

  it('replay: the same 10,000 as lines of a file are each rejected with the same code, the valid ones decided, exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-fuzz-'));
    // A value is a line; a missing value is an empty line (an empty event).
    writeFileSync(join(dir, 'tx.jsonl'), Buffer.concat(INPUTS.flatMap((i) => [i.value ?? Buffer.alloc(0), Buffer.from('\n')])));
    const run = runCli(['replay', '--transactions', join(dir, 'tx.jsonl'), '--out', join(dir, 'decisions.jsonl')], { RULES_DIR: 'rules', MAX_EVENT_BYTES: String(MAX_EVENT_BYTES) });
    expect(await run.exited).toBe(0);

    const rejects = readFileSync(join(dir, 'decisions.jsonl.rejects.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; code: string; error: string });
    expect(rejects).toHaveLength(MALFORMED.length);
    const wrong = rejects.filter((r) => {
      const input = INPUTS[r.line - 1];
      return input?.malformed === undefined || input.malformed.code !== r.code || r.error.length === 0;
    });
    expect(wrong.slice(0, 3)).toEqual([]);

    const decisions = readFileSync(join(dir, 'decisions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Decision);
    expect(decisions.map((d) => d.transactionId)).toEqual(VALID.map((e) => e.transactionId));
    const codes = [...expectedCodes()].map(([code, n]) => `${n} ${code}`);
    expect(run.output()).toContain(`replayed ${VALID.length} transactions:`);
    for (const c of codes) expect(run.output()).toContain(c);
  }, 120_000);
});
