import { describe, expect, it } from 'vitest';
import { toParsedTransaction } from '../../src/contract/transaction.js';
import { TransactionSimulator, DEFAULT_SIMULATOR_OPTIONS } from '../../src/simulate/simulator.js';

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
    expect([...patterns].sort()).toEqual(['account_takeover', 'amount_anomaly', 'card_testing']);
    const times = out.map((s) => s.eventTimeMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
