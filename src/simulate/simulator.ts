// The transaction simulator: customers with habits, merchants, and injected fraud episodes
// (card testing, account takeover, amount anomalies), with labels that arrive late.
import type { TransactionEvent } from '../contract/transaction.js';
import { Random } from './random.js';

export type FraudPattern = 'card_testing' | 'account_takeover' | 'amount_anomaly';

export interface SimulatorOptions {
  seed: number;
  accounts: number;
  merchants: number;
  /** Share of events that start a fraud episode. */
  fraudRate: number;
  /** Mean label delay, like a chargeback. */
  labelDelayMs: number;
}

export const DEFAULT_SIMULATOR_OPTIONS: SimulatorOptions = { seed: 42, accounts: 100_000, merchants: 2000, fraudRate: 0.004, labelDelayMs: 3 * 86_400_000 };

export interface SimulatedTransaction {
  event: TransactionEvent;
  eventTimeMs: number;
  fraud: FraudPattern | null;
}

export interface LabelEvent {
  transactionId: string;
  accountId: string;
  merchantId?: string;
  label: 'fraud' | 'legit';
  timestamp: string;
}

interface Account {
  id: string;
  country: string;
  typicalAmount: number;
  cards: string[];
  devices: string[];
  ip: string;
  favourites: number[];
}

interface Merchant {
  id: string;
  mcc: string;
}

const COUNTRIES = ['FR', 'DE', 'NL', 'ES', 'IT', 'GB', 'US', 'BE', 'PL', 'SE'];
const FRAUD_COUNTRIES = ['RU', 'NG', 'BR', 'VN', 'RO'];
const MCCS = ['5411', '5812', '5541', '5999', '5732', '4111', '5311', '5912', '7011', '5944'];

export class TransactionSimulator {
  private readonly rng: Random;
  /** Profiles are derived from (seed, index) on first use, so large populations cost nothing up front. */
  private readonly accounts = new Map<number, Account>();
  private readonly merchants: Merchant[];
  private readonly pending: SimulatedTransaction[] = [];
  private serial = 0;

  constructor(private readonly options: SimulatorOptions = DEFAULT_SIMULATOR_OPTIONS) {
    this.rng = new Random(options.seed);
    this.merchants = Array.from({ length: options.merchants }, (_, i) => ({ id: `merch-${pad(i)}`, mcc: this.rng.pick(MCCS) }));
  }

  /** The next transaction at or after `nowMs`: a queued fraud event when one is due, else a new one. */
  next(nowMs: number): SimulatedTransaction {
    const due = this.pending[0];
    if (due && due.eventTimeMs <= nowMs) return this.pending.shift() as SimulatedTransaction;
    const account = this.account(this.rng.int(0, this.options.accounts - 1));
    if (this.rng.chance(this.options.fraudRate)) {
      this.startEpisode(account, nowMs);
      const first = this.pending[0];
      if (first && first.eventTimeMs <= nowMs) return this.pending.shift() as SimulatedTransaction;
    }
    return { event: this.normal(account, nowMs), eventTimeMs: nowMs, fraud: null };
  }

  /** The label a fraud team would learn later, with its own (later) timestamp. */
  labelFor(tx: SimulatedTransaction): LabelEvent {
    const delay = this.rng.exponential(this.options.labelDelayMs);
    const label: LabelEvent = {
      transactionId: tx.event.transactionId,
      accountId: tx.event.accountId,
      label: tx.fraud ? 'fraud' : 'legit',
      timestamp: new Date(tx.eventTimeMs + delay).toISOString(),
    };
    if (tx.event.merchantId) label.merchantId = tx.event.merchantId;
    return label;
  }

  private account(i: number): Account {
    let account = this.accounts.get(i);
    if (!account) {
      const rng = new Random(Math.imul(this.options.seed, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b));
      const cards = Array.from({ length: rng.int(1, 2) }, (_, k) => `card-${pad(i)}-${k}`);
      const devices = Array.from({ length: rng.int(1, 2) }, (_, k) => `dev-${pad(i)}-${k}`);
      const favourites = Array.from({ length: 5 }, () => rng.int(0, this.options.merchants - 1));
      const ip = `198.${rng.int(18, 19)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
      account = { id: `acct-${pad(i)}`, country: rng.pick(COUNTRIES), typicalAmount: rng.logNormal(3.4, 0.7), cards, devices, ip, favourites };
      this.accounts.set(i, account);
    }
    return account;
  }

  private base(account: Account, timeMs: number, merchant: Merchant, amount: number): TransactionEvent {
    return {
      transactionId: `tx-${this.options.seed}-${++this.serial}`,
      accountId: account.id,
      amount: Math.round(amount * 100) / 100,
      currency: 'EUR',
      timestamp: new Date(timeMs).toISOString(),
      merchantId: merchant.id,
      merchantCategory: merchant.mcc,
      cardId: this.rng.pick(account.cards),
      deviceId: this.rng.pick(account.devices),
      ipAddress: account.ip,
      country: account.country,
      channel: this.rng.chance(0.6) ? 'pos' : this.rng.chance(0.9) ? 'ecom' : 'atm',
    };
  }

  private normal(account: Account, timeMs: number): TransactionEvent {
    const merchant = this.rng.chance(0.8) ? (this.merchants[this.rng.pick(account.favourites)] as Merchant) : this.rng.pick(this.merchants);
    return this.base(account, timeMs, merchant, account.typicalAmount * this.rng.logNormal(0, 0.5));
  }

  private startEpisode(account: Account, nowMs: number): void {
    const roll = this.rng.next();
    const pattern: FraudPattern = roll < 0.4 ? 'card_testing' : roll < 0.75 ? 'account_takeover' : 'amount_anomaly';
    const events: SimulatedTransaction[] = [];
    const push = (timeMs: number, event: TransactionEvent): void => {
      events.push({ event, eventTimeMs: timeMs, fraud: pattern });
    };
    if (pattern === 'card_testing') {
      const card = this.rng.pick(account.cards);
      let t = nowMs;
      for (let k = this.rng.int(6, 12); k > 0; k--) {
        push(t, { ...this.base(account, t, this.rng.pick(this.merchants), 0.5 + this.rng.next() * 2.5), cardId: card, channel: 'ecom' });
        t += this.rng.int(2_000, 15_000);
      }
    } else if (pattern === 'account_takeover') {
      const device = `dev-ato-${this.options.seed}-${this.serial}`;
      const country = this.rng.pick(FRAUD_COUNTRIES);
      const ip = `203.0.113.${this.rng.int(1, 254)}`;
      let t = nowMs;
      for (let k = this.rng.int(2, 4); k > 0; k--) {
        const amount = account.typicalAmount * (8 + this.rng.next() * 17);
        push(t, { ...this.base(account, t, this.rng.pick(this.merchants), amount), deviceId: device, country, ipAddress: ip, channel: 'ecom' });
        t += this.rng.int(30_000, 240_000);
      }
    } else {
      push(nowMs, this.base(account, nowMs, this.rng.pick(this.merchants), account.typicalAmount * (15 + this.rng.next() * 25)));
    }
    for (const e of events) e.event.timestamp = new Date(e.eventTimeMs).toISOString();
    this.pending.push(...events);
    this.pending.sort((a, b) => a.eventTimeMs - b.eventTimeMs);
  }
}

function pad(n: number): string {
  return String(n).padStart(7, '0');
}
