// `fraud-detector replay` as a user runs it: files in, one decision per valid line in input
// order, bad lines reported with their line numbers, no services needed.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import { runCli } from '../helpers/cli.js';
import { at, tx } from '../helpers/events.js';

describe('fraud-detector replay', () => {
  it('decides in event-time order, writes in input order, and reports bad lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-replay-'));
    const T = '2026-05-01T10:00:00.000Z';
    // A card-testing burst, written out of time order: the 6th payment comes first in the file.
    const burst = Array.from({ length: 6 }, (_, i) => tx({ transactionId: `b${i}`, accountId: 'v', cardId: 'vc', amount: 1, timestamp: at(T, i * 10_000) }));
    const lines = [JSON.stringify(burst[5]), ...burst.slice(0, 5).map((e) => JSON.stringify(e)), '{"transactionId": "cut', '', JSON.stringify({ ...tx(), currency: 'euro' })];
    writeFileSync(join(dir, 'tx.jsonl'), lines.join('\n') + '\n');
    const run = runCli(['replay', '--transactions', join(dir, 'tx.jsonl'), '--out', join(dir, 'decisions.jsonl')], { RULES_DIR: 'rules', KAFKA_BROKERS: '127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1' });
    expect(await run.exited).toBe(0);
    const decisions = readFileSync(join(dir, 'decisions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Decision);
    expect(decisions.map((d) => d.transactionId)).toEqual(['b5', 'b0', 'b1', 'b2', 'b3', 'b4']);
    // b5 is the sixth payment in event time, whatever its place in the file.
    expect(decisions[0]?.features.card?.count_1h).toBe(6);
    expect(decisions[0]?.ruleHits.map((h) => h.id)).toContain('card-testing-burst');
    expect(decisions.map((d) => d.decision)).toEqual(['review', 'allow', 'allow', 'allow', 'allow', 'review']);
    const rejects = readFileSync(join(dir, 'decisions.jsonl.rejects.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; code: string });
    // An empty line is an empty event, as an empty Kafka message is.
    expect(rejects.map((r) => [r.line, r.code])).toEqual([[7, 'FD_EVENT_NOT_JSON'], [8, 'FD_EVENT_EMPTY'], [9, 'FD_EVENT_SCHEMA']]);
    expect(run.output()).toMatch(/replayed 6 transactions: 4 allow, 2 review, 0 block/);
  });

  it('refuses what run dead-letters, with the same codes, and still exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-replay-'));
    const valid = JSON.stringify(tx({ transactionId: 'ok-1' }));
    const withField = (raw: string): string => valid.slice(0, -1) + `,${raw}}`;
    const lines = [
      Buffer.from(withField(`"deep":${'['.repeat(5000)}${']'.repeat(5000)}`)), // parsed, it made JSON.stringify throw: exit 1 with no output
      Buffer.from(withField('"amount":7')),
      Buffer.concat([Buffer.from(withField('"note":"').slice(0, -1)), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
      Buffer.from(withField(`"note":"${'x'.repeat(20_000)}"`)),
      Buffer.from(valid + '\r'),
    ];
    writeFileSync(join(dir, 'tx.jsonl'), Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
    const run = runCli(['replay', '--transactions', join(dir, 'tx.jsonl'), '--out', join(dir, 'decisions.jsonl')], { RULES_DIR: 'rules', MAX_EVENT_BYTES: '20000' });
    expect(await run.exited).toBe(0);
    const rejects = readFileSync(join(dir, 'decisions.jsonl.rejects.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; code: string; error: string });
    expect(rejects.map((r) => [r.line, r.code])).toEqual([[1, 'FD_EVENT_TOO_DEEP'], [2, 'FD_EVENT_DUPLICATE_KEY'], [3, 'FD_EVENT_NOT_UTF8'], [4, 'FD_EVENT_TOO_LARGE']]);
    expect(readFileSync(join(dir, 'decisions.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as Decision).transactionId)).toEqual(['ok-1']);
    expect(run.output()).toMatch(/replayed 1 transactions: .*; 4 bad lines → .*rejects\.jsonl \(1 FD_EVENT_TOO_DEEP, 1 FD_EVENT_DUPLICATE_KEY, 1 FD_EVENT_NOT_UTF8, 1 FD_EVENT_TOO_LARGE\)/);
  });
});
