import { describe, expect, it } from 'vitest';
import { handbookTestSet } from '../../src/models/handbook-test-set.js';
import type { CardScored } from '../../src/models/metrics.js';

const DAY = 86_400_000;
const trainFromMs = Date.UTC(2018, 6, 25);
const testFromMs = trainFromMs + 14 * DAY;
const period = { trainFromMs, testFromMs, testUntilMs: testFromMs + 7 * DAY, delayMs: 7 * DAY };
const row = (card: string, timeMs: number, fraud = false): CardScored => ({ card, timeMs, fraud, score: 0.5 });

describe("the handbook's test set", () => {
  it('leaves out, on each test day, the cards with a fraud known by its start', () => {
    const frauds = [
      { card: 'before-training', timeMs: trainFromMs - DAY }, // not counted: before the training period
      { card: 'in-training', timeMs: trainFromMs + 3 * DAY }, // known before the test week
      { card: 'delay-day-2', timeMs: trainFromMs + 8 * DAY + 5_000 }, // day 8 + 7 of delay: known from test day 2 (day 16)
      { card: 'test-day-0', timeMs: testFromMs + 1_000 }, // known only after the test week
    ];
    const rows = ['before-training', 'in-training', 'delay-day-2', 'test-day-0', 'clean'].flatMap((card) => [0, 1, 2, 6].map((d) => row(card, testFromMs + d * DAY + 3_600_000)));
    const kept = handbookTestSet(rows, frauds, period).map((r) => `${r.card}@${Math.round((r.timeMs - testFromMs) / DAY)}`);
    expect(kept).toEqual([
      'before-training@0', 'before-training@1', 'before-training@2', 'before-training@6',
      'delay-day-2@0', 'delay-day-2@1',
      'test-day-0@0', 'test-day-0@1', 'test-day-0@2', 'test-day-0@6',
      'clean@0', 'clean@1', 'clean@2', 'clean@6',
    ]);
  });

  it('keeps only the test period, and a fraud at the day edge counts from the next day as in whole days', () => {
    const edge = [{ card: 'edge', timeMs: testFromMs - 7 * DAY }]; // label at exactly the start of test day 0
    const rows = [row('edge', testFromMs - 1), row('edge', testFromMs + 1), row('edge', testFromMs + DAY + 1), row('edge', period.testUntilMs)];
    expect(handbookTestSet(rows, edge, period).map((r) => r.timeMs)).toEqual([testFromMs + 1]);
  });
});
