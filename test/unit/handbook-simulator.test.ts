import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeHandbookFiles } from '../../src/cli/simulate-handbook.js';
import { toLabelEvent } from '../../src/contract/label.js';
import { toParsedTransaction } from '../../src/contract/transaction.js';
import { HANDBOOK_DEFAULTS, handbookDays, handbookLabel, SCENARIOS, type HandbookOptions, type HandbookTransaction } from '../../src/simulate/handbook.js';
import { Random } from '../../src/simulate/random.js';

const DAY_MS = 86_400_000;
// A tenth of the handbook's population for 70 days: the scenarios reach their steady state (28 days) with room to measure.
const SMALL: HandbookOptions = { ...HANDBOOK_DEFAULTS, seed: 3, customers: 500, terminals: 1000, days: 70 };

function history(options: HandbookOptions): HandbookTransaction[] {
  return [...handbookDays(options)].flat();
}

const small = history(SMALL);
const share = (txs: readonly HandbookTransaction[], pred: (t: HandbookTransaction) => boolean): number => txs.filter(pred).length / txs.length;

describe('handbook simulator', () => {
  it('is the same history for the same seed, another for another seed', () => {
    const short = { ...SMALL, days: 5 };
    expect(history(short)).toEqual(history(short));
    expect(history({ ...short, seed: 4 }).slice(0, 50)).not.toEqual(history(short).slice(0, 50));
  });

  it('writes valid contract events in event-time order, within the days asked for, ids unique', () => {
    for (const t of small) expect(toParsedTransaction(t.event).eventTimeMs).toBe(t.eventTimeMs);
    const times = small.map((t) => t.eventTimeMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThan(SMALL.startMs);
    expect(times.at(-1)).toBeLessThan(SMALL.startMs + SMALL.days * DAY_MS);
    expect(new Set(small.map((t) => t.event.transactionId)).size).toBe(small.length);
    const first = small[0] as HandbookTransaction;
    expect(first.event.cardId).toBe(first.event.accountId);
    expect(first.event.merchantId).toMatch(/^term-\d{5}$/);
  });

  it('makes about 2 payments per customer a day (Poisson, mean uniform in [0, 4)), times around noon', () => {
    const perCustomerDay = small.length / (SMALL.customers * SMALL.days);
    // 2 a day, less the 3% of times drawn outside the day (beyond 2.16 standard deviations of noon).
    expect(perCustomerDay).toBeGreaterThan(1.75);
    expect(perCustomerDay).toBeLessThan(2.15);
    const hours = small.map((t) => new Date(t.eventTimeMs).getUTCHours() + new Date(t.eventTimeMs).getUTCMinutes() / 60);
    const mean = hours.reduce((a, b) => a + b, 0) / hours.length;
    expect(Math.abs(mean - 12)).toBeLessThan(0.2);
  });

  it('scenario 1: every amount above 220 is fraud', () => {
    expect(small.filter((t) => t.scenario === 0 && t.event.amount > SCENARIOS.amountAbove)).toEqual([]);
    expect(small.some((t) => t.scenario === 1)).toBe(true);
  });

  it('scenario 2: about 2 × 28 compromised terminals at a time, every payment at them fraud', () => {
    const steady = small.filter((t) => t.eventTimeMs >= SMALL.startMs + SCENARIOS.terminalDays * DAY_MS);
    const expected = (SCENARIOS.terminalsPerDay * SCENARIOS.terminalDays) / SMALL.terminals;
    // Scenario 3 overrides a third of the compromised customers' payments at compromised terminals.
    const atCompromised = share(steady, (t) => t.scenario === 2) / (1 - share(steady, (t) => t.scenario === 3));
    expect(atCompromised).toBeGreaterThan(expected * 0.7);
    expect(atCompromised).toBeLessThan(expected * 1.3);
    // A compromised terminal's payments on a day it was seen compromised are all fraud.
    const compromisedDays = new Set(small.filter((t) => t.scenario === 2).map((t) => `${t.event.merchantId}@${Math.floor(t.eventTimeMs / DAY_MS)}`));
    expect(small.filter((t) => t.scenario < 2 && compromisedDays.has(`${t.event.merchantId}@${Math.floor(t.eventTimeMs / DAY_MS)}`))).toEqual([]);
  });

  it('scenario 3: a third of the payments of about 3 × 14 compromised customers, at 5 times their amount', () => {
    const steady = small.filter((t) => t.eventTimeMs >= SMALL.startMs + SCENARIOS.customerDays * DAY_MS);
    const expected = ((SCENARIOS.customersPerDay * SCENARIOS.customerDays) / SMALL.customers) * SCENARIOS.customerShare;
    const s3 = share(steady, (t) => t.scenario === 3);
    expect(s3).toBeGreaterThan(expected * 0.7);
    expect(s3).toBeLessThan(expected * 1.3);
    // Per customer, the median scenario-3 amount against the median of the rest: about 5×.
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const byCustomer = new Map<string, HandbookTransaction[]>();
    for (const t of small) byCustomer.set(t.event.accountId, [...(byCustomer.get(t.event.accountId) ?? []), t]);
    const ratios = [...new Set(small.filter((t) => t.scenario === 3).map((t) => t.event.accountId))].map((id) => {
      const own = byCustomer.get(id) ?? [];
      return median(own.filter((t) => t.scenario === 3).map((t) => t.event.amount)) / median(own.filter((t) => t.scenario !== 3).map((t) => t.event.amount));
    });
    expect(median(ratios)).toBeGreaterThan(3.5);
    expect(median(ratios)).toBeLessThan(7);
  });

  it('is under 1% fraud overall, as the handbook reports (0.84%) for its population', () => {
    const full = history({ ...HANDBOOK_DEFAULTS, seed: 1, days: 60 });
    const late = full.filter((t) => t.eventTimeMs >= HANDBOOK_DEFAULTS.startMs + SCENARIOS.terminalDays * DAY_MS);
    expect(share(late, (t) => t.scenario !== 0)).toBeGreaterThan(0.006);
    expect(share(late, (t) => t.scenario !== 0)).toBeLessThan(0.011);
  });

  it('labels each transaction, fraud when a scenario made it so, known exactly the delay later', () => {
    for (const t of small.slice(0, 5000)) {
      const label = toLabelEvent(handbookLabel(t, SMALL.labelDelayMs));
      expect(label).toEqual({ transactionId: t.event.transactionId, accountId: t.event.accountId, merchantId: t.event.merchantId, fraud: t.scenario !== 0, knownAtMs: t.eventTimeMs + 7 * DAY_MS });
    }
  });

  it('writes both files a day at a time, the labels in their own time order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-handbook-'));
    try {
      const files = { transactions: join(dir, 'tx.jsonl'), labels: join(dir, 'labels.jsonl') };
      const summary = await writeHandbookFiles({ ...SMALL, days: 10 }, files);
      const tx = readFileSync(files.transactions, 'utf8').trim().split('\n');
      const labels = readFileSync(files.labels, 'utf8').trim().split('\n').map((l) => toLabelEvent(JSON.parse(l)));
      expect(tx.length).toBe(summary.transactions);
      expect(labels.length).toBe(summary.transactions);
      expect(labels.filter((l) => l.fraud).length).toBe(summary.frauds);
      const known = labels.map((l) => l.knownAtMs);
      expect(known).toEqual([...known].sort((a, b) => a - b));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Random.poisson', () => {
  it('has the mean it is given', () => {
    const rng = new Random(9);
    for (const mean of [0.5, 2, 3.9]) {
      const n = 20_000;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += rng.poisson(mean);
      expect(Math.abs(sum / n - mean)).toBeLessThan(0.05);
    }
    expect(rng.poisson(0)).toBe(0);
  });
});
