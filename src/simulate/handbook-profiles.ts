// The handbook simulator's population (Le Borgne et al., "Reproducible Machine Learning for
// Credit Card Fraud Detection", chapter "Transaction data simulator"): customers and terminals
// on a 100 × 100 grid, each customer with the terminals within a radius of it.
import type { Random } from './random.js';

export interface CustomerProfile {
  x: number;
  y: number;
  /** Amounts are normal(meanAmount, stdAmount): mean uniform in [5, 100), std half of it. */
  meanAmount: number;
  stdAmount: number;
  /** Payments per day are Poisson with this mean, uniform in [0, 4). */
  meanPerDay: number;
  /** Indexes of the terminals within the radius, in index order; a customer with none never pays. */
  terminals: Int32Array;
}

export interface TerminalProfile {
  x: number;
  y: number;
}

export const GRID_SIZE = 100;

export function customerProfiles(rng: Random, count: number): Omit<CustomerProfile, 'terminals'>[] {
  return Array.from({ length: count }, () => {
    const x = rng.uniform(0, GRID_SIZE);
    const y = rng.uniform(0, GRID_SIZE);
    const meanAmount = rng.uniform(5, 100);
    return { x, y, meanAmount, stdAmount: meanAmount / 2, meanPerDay: rng.uniform(0, 4) };
  });
}

export function terminalProfiles(rng: Random, count: number): TerminalProfile[] {
  return Array.from({ length: count }, () => ({ x: rng.uniform(0, GRID_SIZE), y: rng.uniform(0, GRID_SIZE) }));
}

/** Each customer with the terminals strictly closer than `radius` (Euclidean distance on the grid). */
export function withReachableTerminals(customers: readonly Omit<CustomerProfile, 'terminals'>[], terminals: readonly TerminalProfile[], radius: number): CustomerProfile[] {
  const r2 = radius * radius;
  const near: number[] = [];
  return customers.map((c) => {
    near.length = 0;
    for (let i = 0; i < terminals.length; i++) {
      const t = terminals[i] as TerminalProfile;
      const dx = t.x - c.x;
      const dy = t.y - c.y;
      if (dx * dx + dy * dy < r2) near.push(i);
    }
    return { ...c, terminals: Int32Array.from(near) };
  });
}
