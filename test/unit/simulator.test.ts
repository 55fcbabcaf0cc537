import { describe, expect, it } from 'vitest';
import { toParsedTransaction } from '../../src/contract/transaction.js';
import { LabelQueue } from '../../src/simulate/label-queue.js';
import { FRAUD_PATTERNS, TransactionSimulator, DEFAULT_SIMULATOR_OPTIONS } from '../../src/simulate/simulator.js';

function run(seed: number, n: number) {
  const sim = new TransactionSimulator({ ...DEFAULT_SIMULATOR_OPTIONS, seed, accounts: 500, fraudRate: 0.02 });
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  return Array.from({ length: n }, (_, i) => sim.next(t0 + i * 1000));
}

describe('simulator', () => {
  it('is reproducible from its seed', () => {
    expect(run(3, 500)).toEqual(run(3, 500));
    expect(run(3, 50)).not.toEqual(run(4, 50));
  });

  it('produces valid events and injects every fraud pattern', () => {
    const out = run(5, 20_000);
    for (const s of out) expect(() => toParsedTransaction(s.event)).not.toThrow();
    const patterns = new Set(out.map((s) => s.fraud).filter(Boolean));
    expect([...patterns].sort()).toEqual([...FRAUD_PATTERNS].sort());
    const times = out.map((s) => s.eventTimeMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});

describe('label queue', () => {
  it('gives back labels once known, earliest first', () => {
    const q = new LabelQueue();
    const times = Array.from({ length: 2000 }, (_, i) => (i * 7919) % 1000);
    for (const at of times) q.push({ at, key: 'k', value: String(at) });
    const early = q.due(499).map((l) => l.at);
    expect(early).toEqual([...times].filter((t) => t <= 499).sort((a, b) => a - b));
    expect(q.size).toBe(times.filter((t) => t > 499).length);
    expect(q.due(10_000).map((l) => l.at)).toEqual([...times].filter((t) => t > 499).sort((a, b) => a - b));
  });
});
