// features/handbook.yaml against the handbook's own definitions, on handbook-simulated history:
// a terminal's risk over w days is its transactions (and frauds) in the w days ending 7 days
// before the transaction; ours is the labels known in the w days ending at the transaction. With
// every label known exactly 7 days after its transaction these are the same window, to one
// bucket of the window (1 hour for 1d, 6 hours for 7d, 1 day for 30d).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { toLabelEvent, type LabelEvent } from '../../src/contract/label.js';
import { toParsedTransaction } from '../../src/contract/transaction.js';
import { applyLabels, computeFeatures } from '../../src/features/engine.js';
import { loadFeatureSet } from '../../src/features/load.js';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import { HANDBOOK_DEFAULTS, handbookDays, handbookLabel, type HandbookTransaction } from '../../src/simulate/handbook.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DELAY = 7 * DAY;
const set = loadFeatureSet(fileURLToPath(new URL('../../features/handbook.yaml', import.meta.url)));
// Few terminals in a wide radius, so each terminal's windows hold tens of transactions.
const options = { ...HANDBOOK_DEFAULTS, seed: 5, customers: 100, terminals: 40, radius: 30, days: 24 };
const history = [...handbookDays(options)].flat();

/** Every transaction's features as the detector computes them, labels applied when known. */
async function detectorFeatures(): Promise<Record<string, number>[]> {
  const store = new MemoryFeatureStore({ allowedLatenessMs: 900_000 });
  const labels: LabelEvent[] = history.map((t) => toLabelEvent(handbookLabel(t, DELAY)));
  const rows: Record<string, number>[] = [];
  let next = 0;
  for (const t of history) {
    const due: LabelEvent[] = [];
    while (next < labels.length && (labels[next] as LabelEvent).knownAtMs <= t.eventTimeMs) due.push(labels[next++] as LabelEvent);
    if (due.length > 0) await applyLabels(due, set, store);
    const f = await computeFeatures([toParsedTransaction(t.event)], set, store);
    rows.push(Object.fromEntries(set.names.map((name, i) => [name, f.matrix[i] as number])));
  }
  return rows;
}

/** The handbook's terminal features: transactions at the terminal in (t - delay - w, t - delay]. */
function handbookTerminal(t: HandbookTransaction, windowMs: number, slackMs: number): { count: number; frauds: number } {
  const from = t.eventTimeMs - DELAY - windowMs + slackMs;
  const until = t.eventTimeMs - DELAY;
  const same = history.filter((o) => o.event.merchantId === t.event.merchantId && o.eventTimeMs > from && o.eventTimeMs <= until);
  return { count: same.length, frauds: same.filter((o) => o.scenario !== 0).length };
}

describe('features/handbook.yaml', () => {
  it('has the handbook features: customer spending over 1, 7 and 30 days, terminal risk delayed by 7 days', () => {
    expect(set.names).toEqual([
      'event.amount', 'event.hour_of_day', 'event.day_of_week', 'account.seconds_since_last',
      'account.count_1d', 'account.mean_1d', 'account.count_7d', 'account.mean_7d', 'account.count_30d', 'account.mean_30d',
      'merchant.labelled_count_1d', 'merchant.fraud_rate_1d', 'merchant.labelled_count_7d', 'merchant.fraud_rate_7d', 'merchant.labelled_count_30d', 'merchant.fraud_rate_30d',
    ]);
  });

  it("is the handbook's delayed terminal window, to one bucket of the window", async () => {
    const rows = await detectorFeatures();
    let exact = 0;
    let compared = 0;
    history.forEach((t, i) => {
      if (t.eventTimeMs < options.startMs + 16 * DAY) return; // 7 days of delay and 7 of window behind it
      const row = rows[i] as Record<string, number>;
      for (const [w, bucket] of [['1d', HOUR], ['7d', 6 * HOUR]] as const) {
        const windowMs = w === '1d' ? DAY : 7 * DAY;
        const wide = handbookTerminal(t, windowMs, -bucket);
        const narrow = handbookTerminal(t, windowMs, bucket);
        const ours = row[`merchant.labelled_count_${w}`] as number;
        expect(ours).toBeGreaterThanOrEqual(narrow.count);
        expect(ours).toBeLessThanOrEqual(wide.count);
        const exactly = handbookTerminal(t, windowMs, 0);
        compared++;
        if (ours === exactly.count && Math.abs((row[`merchant.fraud_rate_${w}`] as number) - (exactly.count > 0 ? exactly.frauds / exactly.count : 0)) < 1e-6) exact++;
      }
    });
    expect(compared).toBeGreaterThan(1000);
    // Where an edge's bucket holds none of the terminal's transactions the values are equal: 66%
    // of these windows (a busy terminal here makes about 5 payments a day).
    expect(exact / compared).toBeGreaterThan(0.5);
  });

  it('counts the customer spending with this payment included, as the handbook does', async () => {
    const rows = await detectorFeatures();
    const t = history.at(-1) as HandbookTransaction;
    const mine = history.filter((o) => o.event.accountId === t.event.accountId && o.eventTimeMs > t.eventTimeMs - 7 * DAY && o.eventTimeMs <= t.eventTimeMs);
    const row = rows.at(-1) as Record<string, number>;
    // The 7-day window's edge is precise to its 6-hour buckets.
    expect(Math.abs((row['account.count_7d'] as number) - mine.length)).toBeLessThanOrEqual(2);
    expect(row['account.count_1d']).toBeGreaterThanOrEqual(1);
  });
});
