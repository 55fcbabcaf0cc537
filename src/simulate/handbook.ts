// The handbook's transaction simulator (Le Borgne et al., "Reproducible Machine Learning for
// Credit Card Fraud Detection", chapter "Transaction data simulator"), one day at a time so a
// 183-day history streams in constant memory. The facts are the handbook's; the random draws
// are ours (seeded, so the same seed gives the same history, not the handbook's own file):
//   - each day each customer makes Poisson(meanPerDay) payments at terminals drawn uniformly
//     from those within the radius, at times normal around noon (std 20,000 s; a draw outside
//     the day is dropped), amounts normal(mean, std) (a negative draw is replaced by a uniform
//     one in [0, 2 × mean)), in cents;
//   - scenario 1: every amount above 220 is fraud;
//   - scenario 2: each day 2 terminals drawn at random are compromised for 28 days (that day
//     included): every payment at them is fraud;
//   - scenario 3: each day 3 customers drawn at random are compromised for 14 days: a third of
//     their payments then (each with probability 1/3 here; the handbook samples exactly a third
//     of the window's payments) get 5 times their amount and are fraud.
// Labels are known a fixed delay (7 days) after the transaction.
import type { LabelEvent } from './simulator.js';
import type { TransactionEvent } from '../contract/transaction.js';
import { customerProfiles, terminalProfiles, withReachableTerminals, type CustomerProfile } from './handbook-profiles.js';
import { Random } from './random.js';

export interface HandbookOptions {
  seed: number;
  customers: number;
  terminals: number;
  days: number;
  /** Midnight UTC of the first day. */
  startMs: number;
  /** A customer pays at the terminals closer than this (grid units). */
  radius: number;
  labelDelayMs: number;
}

const DAY_MS = 86_400_000;

export const HANDBOOK_DEFAULTS: HandbookOptions = { seed: 0, customers: 5000, terminals: 10_000, days: 183, startMs: Date.UTC(2018, 3, 1), radius: 5, labelDelayMs: 7 * DAY_MS };

/** The handbook's fraud scenarios' constants. */
export const SCENARIOS = {
  amountAbove: 220,
  terminalsPerDay: 2,
  terminalDays: 28,
  customersPerDay: 3,
  customerDays: 14,
  customerShare: 1 / 3,
  customerMultiplier: 5,
} as const;

/** 0: legitimate; else the scenario that made it fraud (the last one applied: 3 over 2 over 1). */
export type FraudScenario = 0 | 1 | 2 | 3;

export interface HandbookTransaction {
  event: TransactionEvent;
  eventTimeMs: number;
  scenario: FraudScenario;
}

interface Payment {
  second: number;
  customer: number;
  terminal: number;
  amount: number;
}

/** A seed of its own for each stream of draws, so the profiles do not shift when the days change. */
const streamSeed = (seed: number, stream: number): number => Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(stream, 0x85ebca6b);

export function customerId(i: number): string {
  return `cust-${String(i).padStart(5, '0')}`;
}

export function terminalId(i: number): string {
  return `term-${String(i).padStart(5, '0')}`;
}

/**
 * The history, one day at a time, each day's transactions in event-time order. Ids follow that
 * order: `hb-<seed>-<n>`.
 */
export function* handbookDays(options: HandbookOptions = HANDBOOK_DEFAULTS): Generator<HandbookTransaction[]> {
  const profiles = new Random(streamSeed(options.seed, 1));
  const customers = withReachableTerminals(customerProfiles(profiles, options.customers), terminalProfiles(profiles, options.terminals), options.radius);
  const payments = new Random(streamSeed(options.seed, 2));
  const frauds = new Random(streamSeed(options.seed, 3));
  const compromised = new CompromisedSets();
  let serial = 0;
  for (let day = 0; day < options.days; day++) {
    compromised.draw(frauds, day, options);
    const dayMs = options.startMs + day * DAY_MS;
    yield dayPayments(payments, customers).map((p) => {
      const { amount, scenario } = compromised.judge(frauds, p, day);
      const eventTimeMs = dayMs + p.second * 1000;
      return { event: toEvent(`hb-${options.seed}-${++serial}`, p, amount, eventTimeMs), eventTimeMs, scenario };
    });
  }
}

/** The label of a transaction, known `delayMs` after it. */
export function handbookLabel(tx: HandbookTransaction, delayMs: number): LabelEvent {
  return {
    transactionId: tx.event.transactionId,
    accountId: tx.event.accountId,
    merchantId: tx.event.merchantId,
    label: tx.scenario === 0 ? 'legit' : 'fraud',
    timestamp: new Date(tx.eventTimeMs + delayMs).toISOString(),
  };
}

/** One day's payments of every customer, in time order (ties in customer order). */
function dayPayments(rng: Random, customers: readonly CustomerProfile[]): Payment[] {
  const day: Payment[] = [];
  customers.forEach((c, customer) => {
    if (c.terminals.length === 0) return;
    const n = rng.poisson(c.meanPerDay);
    for (let k = 0; k < n; k++) {
      const second = Math.round(43_200 + 20_000 * rng.normal());
      let amount = c.meanAmount + c.stdAmount * rng.normal();
      if (amount < 0) amount = rng.uniform(0, 2 * c.meanAmount);
      const terminal = c.terminals[Math.floor(rng.next() * c.terminals.length)] as number;
      if (second > 0 && second < 86_400) day.push({ second, customer, terminal, amount: Math.round(amount * 100) / 100 });
    }
  });
  return day.sort((a, b) => a.second - b.second);
}

/** Which terminals and customers are compromised, until which day (exclusive). */
class CompromisedSets {
  private readonly terminals = new Map<number, number>();
  private readonly customers = new Map<number, number>();

  draw(rng: Random, day: number, options: HandbookOptions): void {
    for (const t of distinct(rng, SCENARIOS.terminalsPerDay, options.terminals)) this.terminals.set(t, Math.max(this.terminals.get(t) ?? 0, day + SCENARIOS.terminalDays));
    for (const c of distinct(rng, SCENARIOS.customersPerDay, options.customers)) this.customers.set(c, Math.max(this.customers.get(c) ?? 0, day + SCENARIOS.customerDays));
  }

  judge(rng: Random, p: Payment, day: number): { amount: number; scenario: FraudScenario } {
    let scenario: FraudScenario = p.amount > SCENARIOS.amountAbove ? 1 : 0;
    if ((this.terminals.get(p.terminal) ?? 0) > day) scenario = 2;
    if ((this.customers.get(p.customer) ?? 0) > day && rng.chance(SCENARIOS.customerShare)) {
      return { amount: Math.round(p.amount * SCENARIOS.customerMultiplier * 100) / 100, scenario: 3 };
    }
    return { amount: p.amount, scenario };
  }
}

/** `k` distinct integers in [0, n), drawn uniformly (k ≤ n). */
function distinct(rng: Random, k: number, n: number): number[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(k, n)) picked.add(rng.int(0, n - 1));
  return [...picked];
}

function toEvent(transactionId: string, p: Payment, amount: number, eventTimeMs: number): TransactionEvent {
  const customer = customerId(p.customer);
  return {
    transactionId,
    accountId: customer,
    cardId: customer,
    merchantId: terminalId(p.terminal),
    amount,
    currency: 'EUR',
    timestamp: new Date(eventTimeMs).toISOString(),
  };
}
