// `fraud-detector features export`: point-in-time rows, identical to what serving computes.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toParsedTransaction } from '../../src/contract/transaction.js';
import { candidateInputs } from '../../src/features/candidates.js';
import { DEFAULT_FEATURE_SET, EVENT_FEATURES } from '../../src/features/definitions.js';
import { computeFeatures } from '../../src/features/engine.js';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import { writeSelected } from '../../src/training/search.js';
import { runCli } from '../helpers/cli.js';
import { at, tx } from '../helpers/events.js';

describe('fraud-detector features export', () => {
  it('writes each transaction with the features it had at its time, and its latest label', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-export-'));
    const T = '2026-06-01T08:00:00.000Z';
    const events = Array.from({ length: 30 }, (_, i) => tx({ transactionId: `x${i}`, accountId: `a${i % 3}`, amount: 5 + i, timestamp: at(T, i * 60_000) }));
    // File order is not time order.
    writeFileSync(join(dir, 'tx.jsonl'), [...events].reverse().map((e) => JSON.stringify(e)).join('\n') + '\n');
    const labels = [
      { transactionId: 'x3', accountId: 'a0', label: 'legit', timestamp: at(T, 86_400_000) },
      { transactionId: 'x3', accountId: 'a0', label: 'fraud', timestamp: at(T, 2 * 86_400_000) },
      { transactionId: 'x4', accountId: 'a1', label: 'legit', timestamp: at(T, 86_400_000) },
    ];
    writeFileSync(join(dir, 'labels.jsonl'), labels.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const run = runCli(['features', 'export', '--transactions', join(dir, 'tx.jsonl'), '--labels', join(dir, 'labels.jsonl'), '--out', join(dir, 'f.csv')], {});
    expect(await run.exited).toBe(0);
    const [header, ...rows] = readFileSync(join(dir, 'f.csv'), 'utf8').trim().split('\n');
    expect(header?.split(',')).toEqual(['transactionId', 'accountId', 'cardId', 'eventTime', ...DEFAULT_FEATURE_SET.names, 'label']);
    expect(rows.map((r) => r.split(',')[0])).toEqual(events.map((e) => e.transactionId));
    // The serving path over the same history, in time order, gives the same numbers.
    const serving = await computeFeatures(events.map(toParsedTransaction), DEFAULT_FEATURE_SET, new MemoryFeatureStore({ allowedLatenessMs: 900_000 }));
    rows.forEach((row, i) => {
      const cells = row.split(',');
      const width = DEFAULT_FEATURE_SET.names.length;
      expect(cells.slice(4, 4 + width).map(Number)).toEqual(Array.from(serving.matrix.subarray(i * width, (i + 1) * width)));
    });
    const labelOf = (id: string): string | undefined => rows.find((r) => r.startsWith(`${id},`))?.split(',').at(-1);
    expect([labelOf('x3'), labelOf('x4'), labelOf('x5')]).toEqual(['1', '0', '']);
  });

  it('writes the serving path\'s numbers for a feature set train --search selected, written beside its model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-export-searched-'));
    const T = '2026-06-01T08:00:00.000Z';
    const events = Array.from({ length: 40 }, (_, i) => tx({ transactionId: `s${i}`, accountId: `a${i % 3}`, merchantId: `m${i % 2}`, cardId: `c${i % 4}`, deviceId: `d${i % 5}`, ipAddress: `10.0.0.${i % 3}`, amount: 3 + i, timestamp: at(T, i * 600_000) }));
    writeFileSync(join(dir, 'tx.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const picked = ['account.count_1h', 'account.std_1d', 'merchant.max_1d', 'card.min_1h', 'device.distinct_card_1d', 'ip.distinct_account_1d', 'device.seconds_since_last', 'ip.amount_ratio_7d', 'merchant.fraud_rate_7d'];
    const set = writeSelected([...EVENT_FEATURES, ...picked], candidateInputs(['account', 'merchant', 'card', 'device', 'ip']), join(dir, 'mine.features.yaml'));
    const run = runCli(['features', 'export', '--transactions', join(dir, 'tx.jsonl'), '--out', join(dir, 'f.csv')], { FEATURES_FILE: join(dir, 'mine.features.yaml') });
    expect(await run.exited, run.output()).toBe(0);
    const [header, ...rows] = readFileSync(join(dir, 'f.csv'), 'utf8').trim().split('\n');
    expect(header?.split(',').slice(4, -1)).toEqual(set.names);
    const serving = await computeFeatures(events.map(toParsedTransaction), set, new MemoryFeatureStore({ allowedLatenessMs: 900_000 }));
    const width = set.names.length;
    rows.forEach((row, i) => expect(row.split(',').slice(4, 4 + width).map(Number)).toEqual(Array.from(serving.matrix.subarray(i * width, (i + 1) * width))));
    // Not only zeros: the distinct counts and the time since the last payment moved.
    expect(new Set(rows.map((r) => r.split(',')[4 + set.names.indexOf('device.distinct_card_1d')])).size).toBeGreaterThan(1);
  });
});
