// `fraud-detector rules backtest` as an analyst runs it: a rules directory against labelled
// history, each rule's hits, precision and recall, shadow rules included, breakers off.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BacktestReport } from '../../src/rules/backtest.js';
import { runCli } from '../helpers/cli.js';
import { at, tx } from '../helpers/events.js';

describe('fraud-detector rules backtest', () => {
  it('prints each rule\'s hits, precision and recall against the labels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-backtest-'));
    const T = '2026-05-01T10:00:00.000Z';
    // 5 large payments (4 fraud), 3 tiny ones (1 fraud, 1 unlabelled), 12 ordinary ones (1 fraud).
    const amounts = [5000, 6000, 7000, 8000, 9000, 1, 1, 1, ...Array.from({ length: 12 }, () => 40)];
    const fraud = [true, true, true, true, false, true, false, undefined, true, ...Array.from({ length: 11 }, () => false)];
    const txs = amounts.map((amount, i) => tx({ transactionId: `t${i}`, accountId: `a${i}`, cardId: i === 3 ? 'stolen-1' : `c${i}`, amount, timestamp: at(T, i * 1000) }));
    writeFileSync(join(dir, 'tx.jsonl'), [...txs.map((t) => JSON.stringify(t)), '{"broken'].join('\n') + '\n');
    const labels = txs.flatMap((t, i) => (fraud[i] === undefined ? [] : [{ transactionId: t.transactionId, accountId: t.accountId, label: fraud[i] ? 'fraud' : 'legit', timestamp: at(T, 86_400_000) }]));
    writeFileSync(join(dir, 'labels.jsonl'), labels.map((l) => JSON.stringify(l)).join('\n') + '\n');
    mkdirSync(join(dir, 'rules', 'lists'), { recursive: true });
    writeFileSync(join(dir, 'rules', 'lists', 'stolen_cards.txt'), 'stolen-1\n');
    writeFileSync(
      join(dir, 'rules', 'r.yaml'),
      [
        'rules:',
        '  - { id: big, expression: "event.amount > 1000.0", action: block, priority: 10, maxHitRate: 0.01 }',
        '  - { id: tiny, expression: "event.amount < 2.0", action: review, mode: shadow }',
        '  - { id: stolen, expression: "event.cardId in lists.stolen_cards", action: block, priority: 90 }',
        '',
      ].join('\n'),
    );
    const run = runCli(['rules', 'backtest', '--rules', join(dir, 'rules'), '--transactions', join(dir, 'tx.jsonl'), '--labels', join(dir, 'labels.jsonl'), '--json'], { KAFKA_BROKERS: '127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1' });
    expect(await run.exited).toBe(0);
    const report = JSON.parse(run.output().slice(run.output().indexOf('{'), run.output().lastIndexOf('}') + 1)) as BacktestReport;
    expect([report.transactions, report.labelled, report.frauds]).toEqual([20, 19, 6]);
    const byId = Object.fromEntries(report.rules.map((r) => [r.id, r]));
    // The breaker (maxHitRate 0.01) would have demoted big after its first hits; a backtest judges the rule as written.
    expect(byId.big).toMatchObject({ mode: 'active', hits: 5, fraudHits: 4, precision: 0.8 });
    expect(byId.big?.recall).toBeCloseTo(4 / 6);
    expect(byId.tiny).toMatchObject({ mode: 'shadow', hits: 3, fraudHits: 1 });
    expect(byId.stolen).toMatchObject({ hits: 1, fraudHits: 1, precision: 1 });
    // Together the active rules flag the 5 large payments; the shadow rule decides nothing.
    expect(report.flagged).toMatchObject({ hits: 5, fraudHits: 4 });
    expect(run.output()).toMatch(/tx\.jsonl:21: FD_EVENT_NOT_JSON/);
  });

  it('prints a table by default', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-backtest-'));
    writeFileSync(join(dir, 'tx.jsonl'), JSON.stringify(tx({ amount: 5000 })) + '\n');
    const run = runCli(['rules', 'backtest', '--rules', 'rules', '--transactions', join(dir, 'tx.jsonl')], { KAFKA_BROKERS: '127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1' });
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/1 transactions, 0 labelled, 0 fraud/);
    expect(run.output()).toMatch(/^card-testing-burst\s+active\s+review\s+0\s+0\.0%\s+0\s+-\s+-$/m);
  });
});
