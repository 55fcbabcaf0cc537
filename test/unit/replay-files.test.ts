// replay over files, in time order or not: the streamed pass (both files in time order) and the
// sorted pass (either out of it, sorted through temporary files) write the same decisions.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configWith, eventLimits, featureSetFor, memoryStore, offlinePipeline } from '../../src/cli/build.js';
import { replayFiles } from '../../src/offline/replay.js';
import { at, tx } from '../helpers/events.js';

const T = '2026-05-01T10:00:00.000Z';
const HOUR = 3_600_000;

/** 300 payments over 5 days at 3 merchants, and a label for each known 6 hours later (every 7th fraud). */
function history(): { transactions: string[]; labels: string[] } {
  const transactions: string[] = [];
  const labels: string[] = [];
  for (let i = 0; i < 300; i++) {
    const e = tx({ transactionId: `p${i}`, accountId: `a${i % 11}`, merchantId: `m${i % 3}`, cardId: `c${i % 13}`, amount: 5 + (i % 17), timestamp: at(T, i * 0.4 * HOUR) });
    transactions.push(JSON.stringify(e));
    labels.push(JSON.stringify({ transactionId: e.transactionId, accountId: e.accountId, merchantId: e.merchantId, label: i % 7 === 0 ? 'fraud' : 'legit', timestamp: at(T, i * 0.4 * HOUR + 6 * HOUR) }));
  }
  return { transactions, labels };
}

/** Swaps neighbours in fixed places: out of time order, by a little. */
const shuffled = (lines: string[]): string[] => {
  const out = [...lines];
  for (let i = 1; i < out.length; i += 3) [out[i - 1], out[i]] = [out[i] as string, out[i - 1] as string];
  return out;
};

async function replay(dir: string, name: string, transactions: string[], labels: string[]): Promise<{ streamed: boolean; labels: number; byId: Map<string, string> }> {
  const files = { transactions: join(dir, `${name}.tx.jsonl`), labels: join(dir, `${name}.labels.jsonl`), out: join(dir, `${name}.out.jsonl`), rejects: join(dir, `${name}.rejects.jsonl`), sortBytes: 2_000 };
  writeFileSync(files.transactions, [...transactions, '{"transactionId":'].join('\n') + '\n');
  writeFileSync(files.labels, ['{}', ...labels].join('\n') + '\n');
  const config = configWith({ RULES_DIR: 'rules' });
  const features = featureSetFor(config);
  const r = await replayFiles(offlinePipeline(config, features, { decisions: 'all' }), () => memoryStore(config), eventLimits(config), files);
  const lines = readFileSync(files.out, 'utf8').trimEnd().split('\n');
  // In input order: the file's own order of transaction ids.
  expect(lines.map((l) => (JSON.parse(l) as { transactionId: string }).transactionId)).toEqual(transactions.map((l) => (JSON.parse(l) as { transactionId: string }).transactionId));
  expect(readFileSync(files.rejects, 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as { file: string; code: string }).code)).toEqual(['FD_EVENT_NOT_JSON', 'FD_EVENT_SCHEMA']);
  const byId = new Map(lines.map((l) => [(JSON.parse(l) as { transactionId: string }).transactionId, l.replace(/"decidedAt":"[^"]*"/, '')]));
  return { streamed: r.streamed, labels: r.labels, byId };
}

describe('replayFiles', () => {
  it('decides the same whether the files are streamed in time order or sorted on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-replay-files-'));
    const h = history();
    const streamed = await replay(dir, 'ordered', h.transactions, h.labels);
    expect({ streamed: streamed.streamed, labels: streamed.labels }).toEqual({ streamed: true, labels: 300 });
    // The labels count: some transactions see frauds of their merchant, known by their time.
    expect([...streamed.byId.values()].some((l) => /"fraud_count_7d":[1-9]/.test(l))).toBe(true);
    for (const [name, transactions, labels] of [
      ['transactions out of order', shuffled(h.transactions), h.labels],
      ['labels out of order', h.transactions, shuffled(h.labels)],
      ['both out of order', shuffled(h.transactions), shuffled(h.labels)],
    ] as const) {
      const sorted = await replay(dir, name.replaceAll(' ', '-'), transactions, labels);
      expect({ name, streamed: sorted.streamed, labels: sorted.labels }).toEqual({ name, streamed: false, labels: 300 });
      expect(sorted.byId).toEqual(streamed.byId);
    }
  });
});
