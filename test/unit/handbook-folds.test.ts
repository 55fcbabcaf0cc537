import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { handbookFolds, meanOverFolds } from '../../src/models/handbook-folds.js';
import { exportCacheFile } from '../../src/training/search.js';

const DAY = 86_400_000;
const ms = (iso: string): number => Date.parse(iso);

describe("the handbook's prequential test folds", () => {
  it('are its 4 consecutive test weeks from 2018-08-08, each 14 days after its training week', () => {
    const { folds } = handbookFolds(4);
    expect(folds.map((f) => [f.fold, f.trainFrom.slice(0, 10), f.testFrom.slice(0, 10), f.testUntil.slice(0, 10)])).toEqual([
      [1, '2018-07-25', '2018-08-08', '2018-08-15'],
      [2, '2018-08-01', '2018-08-15', '2018-08-22'],
      [3, '2018-08-08', '2018-08-22', '2018-08-29'],
      [4, '2018-08-15', '2018-08-29', '2018-09-05'],
    ]);
    for (const f of folds) {
      expect(ms(f.trainUntil) - ms(f.trainFrom)).toBe(7 * DAY);
      expect(ms(f.testFrom) - ms(f.trainUntil)).toBe(7 * DAY); // the label delay
      expect(ms(f.trainFrom) - ms(f.searchFrom)).toBe(7 * DAY);
      expect(ms(f.testFrom) - ms(f.replayFrom)).toBe(38 * DAY);
    }
  });

  it('use only labels known by the test week: every fitted or validated transaction is 7 days (the delay) before it', () => {
    for (const f of handbookFolds(4).folds) {
      // The search fits [searchFrom, trainFrom), validates on [trainFrom, trainUntil) and refits there.
      const lastLabelled = ms(f.trainUntil) - 1;
      expect(lastLabelled + 7 * DAY).toBeLessThan(ms(f.testFrom));
      expect(ms(f.searchFrom)).toBeLessThan(ms(f.trainFrom));
    }
  });

  it('need a history from 37 days before the first fitted week to the last test week, and its labels a week later', () => {
    const one = handbookFolds(1);
    expect([one.historyFrom, one.historyUntil, one.labelsUntil]).toEqual(['2018-06-11T00:00:00.000Z', '2018-08-15T00:00:00.000Z', '2018-08-22T00:00:00.000Z']);
    const four = handbookFolds(4);
    expect([four.historyFrom, four.historyUntil, four.labelsUntil]).toEqual(['2018-06-11T00:00:00.000Z', '2018-09-05T00:00:00.000Z', '2018-09-12T00:00:00.000Z']);
    // Fold 1 is the same whatever the number of folds.
    expect(four.folds[0]).toEqual(one.folds[0]);
    // The replay of every fold starts inside the history, after the 37 days of warm-up of the first fitted week.
    for (const f of four.folds) expect(ms(f.replayFrom)).toBeGreaterThanOrEqual(ms(four.historyFrom));
  });

  it('are 1 to 4', () => {
    for (const bad of [0, 5, 1.5, Number.NaN]) expect(() => handbookFolds(bad)).toThrow(/1 to 4/);
  });

  it('are summarized by the mean of each metric, none when a fold lacks one', () => {
    const m = meanOverFolds([
      { aucRoc: 0.8, averagePrecision: 0.6, cardPrecisionAt100: 0.3 },
      { aucRoc: 0.9, averagePrecision: 0.7, cardPrecisionAt100: null },
    ]);
    expect(m.aucRoc).toBeCloseTo(0.85, 12);
    expect(m.averagePrecision).toBeCloseTo(0.65, 12);
    expect(m.cardPrecisionAt100).toBeNull();
    expect(meanOverFolds([])).toEqual({ aucRoc: null, averagePrecision: null, cardPrecisionAt100: null });
  });
});

describe("train --search's shared export", () => {
  it('is named by the candidates and the history and labels files, so a changed input is exported again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-export-cache-'));
    const files = { transactions: join(dir, 'tx.jsonl'), labels: join(dir, 'labels.jsonl') };
    writeFileSync(files.transactions, '{"a":1}\n');
    writeFileSync(files.labels, '{"b":1}\n');
    const cache = join(dir, 'cache');
    const first = exportCacheFile(cache, 'features: a', files);
    expect(first.startsWith(join(cache, 'candidates-'))).toBe(true);
    expect(exportCacheFile(cache, 'features: a', files)).toBe(first);
    expect(exportCacheFile(cache, 'features: b', files)).not.toBe(first);
    writeFileSync(files.labels, '{"b":2}\n');
    utimesSync(files.labels, new Date(Date.UTC(2020, 0, 1)), new Date(Date.UTC(2020, 0, 1)));
    expect(exportCacheFile(cache, 'features: a', files)).not.toBe(first);
  });
});
