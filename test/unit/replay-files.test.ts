// replay over files, in time order or not: the streamed pass (both files in time order) and the
// sorted pass (either out of it, sorted through temporary files) write the same decisions; with
// the decide thread (two threads, chunks decided while the next one's features are computed),
// the same bytes as on one.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configWith, eventLimits, featureSetFor, memoryStore, modelsFor, offlinePipeline } from '../../src/cli/build.js';
import { startDecider } from '../../src/cli/replay.js';
import { replayFiles } from '../../src/offline/replay.js';
import { ThreadedDecider, type ChunkDecider } from '../../src/offline/threaded-decider.js';
import { at, tx } from '../helpers/events.js';

const T = '2026-05-01T10:00:00.000Z';
const HOUR = 3_600_000;

/** `n` payments 24 minutes apart at 3 merchants, and a label for each known 6 hours later (every 7th fraud). */
function history(n = 300): { transactions: string[]; labels: string[] } {
  const transactions: string[] = [];
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
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

interface Replayed {
  streamed: boolean;
  labels: number;
  byId: Map<string, string>;
  /** The decisions file without its decidedAt times. */
  text: string;
}

const OVERRIDES = { RULES_DIR: 'rules', MODEL_PATH: 'models/default.onnx' };

/** `sortBytes`: small, so that the sorted pass writes several runs to disk. */
async function replay(dir: string, name: string, transactions: string[], labels: string[], decider?: ChunkDecider, sortBytes = 2_000): Promise<Replayed> {
  const files = { transactions: join(dir, `${name}.tx.jsonl`), labels: join(dir, `${name}.labels.jsonl`), out: join(dir, `${name}.out.jsonl`), rejects: join(dir, `${name}.rejects.jsonl`), sortBytes };
  writeFileSync(files.transactions, [...transactions, '{"transactionId":'].join('\n') + '\n');
  writeFileSync(files.labels, ['{}', ...labels].join('\n') + '\n');
  const config = configWith(OVERRIDES);
  const features = featureSetFor(config);
  const models = await modelsFor(config, features);
  const r = await replayFiles(offlinePipeline(config, features, { decisions: 'all', models }), () => memoryStore(config), eventLimits(config), files, { decider }).finally(() => models.scorer.close());
  const text = readFileSync(files.out, 'utf8').replace(/"decidedAt":"[^"]*",/g, '');
  const lines = text.trimEnd().split('\n');
  // In input order: the file's own order of transaction ids.
  expect(lines.map((l) => (JSON.parse(l) as { transactionId: string }).transactionId)).toEqual(transactions.map((l) => (JSON.parse(l) as { transactionId: string }).transactionId));
  expect(readFileSync(files.rejects, 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as { file: string; code: string }).code)).toEqual(['FD_EVENT_NOT_JSON', 'FD_EVENT_SCHEMA']);
  const byId = new Map(lines.map((l) => [(JSON.parse(l) as { transactionId: string }).transactionId, l]));
  return { streamed: r.streamed, labels: r.labels, byId, text };
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

  it('writes the same bytes with the decide thread as on one thread, over many chunks in flight, in time order or not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-replay-threads-'));
    // Chunks of 1,000: several are decided while the next ones' features are computed.
    const h = history(6_500);
    const config = configWith(OVERRIDES);
    const decider = await startDecider(OVERRIDES, featureSetFor(config).names);
    try {
      for (const [name, transactions] of [
        ['in time order', h.transactions],
        ['out of order', shuffled(h.transactions)],
      ] as const) {
        const one = await replay(dir, `${name.replaceAll(' ', '-')}-1`, transactions, h.labels, undefined, 500_000);
        const two = await replay(dir, `${name.replaceAll(' ', '-')}-2`, transactions, h.labels, decider, 500_000);
        expect({ name, streamed: two.streamed, labels: two.labels }).toEqual({ name, streamed: one.streamed, labels: 6_500 });
        // Scored by the model (some reviews or blocks, with their explanations), byte for byte.
        expect(one.text).toMatch(/"contributions"/);
        expect(two.text.length).toBe(one.text.length);
        expect(two.text === one.text).toBe(true);
      }
    } finally {
      await decider.close();
    }
  }, 120_000);

  it('fails the replay with the decide thread\'s error, not a hang, when a chunk cannot be decided', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-replay-threads-'));
    const h = history(3_500);
    let chunks = 0;
    const failing: ChunkDecider = {
      decide: () => (++chunks === 2 ? Promise.reject(new Error('the decide thread ran out of memory')) : Promise.resolve({ bytes: Buffer.alloc(0), outcomes: [] })),
      close: () => Promise.resolve(),
    };
    await expect(replay(dir, 'failing', h.transactions, h.labels, failing)).rejects.toThrow('the decide thread ran out of memory');
  });

  it('does not wait forever for a decide thread that ends before it is ready', async () => {
    await expect(ThreadedDecider.start(new Worker('process.exit(3)', { eval: true }))).rejects.toThrow(/exited \(code 3\) before it was ready/);
  });

  it('refuses to start a decide thread whose model cannot be loaded, with the loader\'s reason', async () => {
    const config = configWith(OVERRIDES);
    await expect(startDecider({ ...OVERRIDES, MODEL_PATH: 'models/missing.onnx' }, featureSetFor(config).names)).rejects.toThrow(/missing\.onnx/);
  });
});
