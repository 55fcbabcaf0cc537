// The transaction simulator: customers with habits (home country, favourite merchants, cards,
// devices, trips abroad), merchants in countries, and legitimate behaviour that looks like
// fraud now and then (bursts of small transit payments, large purchases, a new phone, online
// shopping abroad), so rules and models have something to get wrong. Injected fraud: card
// testing, account takeover, compromised merchants, amount anomalies and impossible travel.
// Labels arrive late, like chargebacks. Everything follows from the seed.
import { DueQueue } from './due-queue.js';
import type { TransactionEvent } from '../contract/transaction.js';
import { Random } from './random.js';

export type FraudPattern = 'card_testing' | 'account_takeover' | 'compromised_merchant' | 'amount_anomaly' | 'impossible_travel';
export const FRAUD_PATTERNS: readonly FraudPattern[] = ['card_testing', 'account_takeover', 'compromised_merchant', 'amount_anomaly', 'impossible_travel'];

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
  index: number;
  id: string;
  country: string;
  typicalAmount: number;
  cards: string[];
  devices: string[];
  ip: string;
  /** Merchants of the home country the customer returns to. */
  favourites: number[];
}

interface Merchant {
  id: string;
  mcc: string;
  country: string;
  /** A compromised merchant's payments are fraudulent until then (a skimmer, a breached checkout). */
  compromisedUntil: number;
}

/** Countries and a point inside each, for payments at a till (lat, lon). */
const HOME: Record<string, [number, number]> = { FR: [46.6, 2.4], DE: [51.1, 10.4], NL: [52.2, 5.3], ES: [40.2, -3.6], IT: [42.8, 12.6], GB: [53.0, -1.9], US: [39.8, -98.6], BE: [50.6, 4.6], PL: [52.1, 19.4], SE: [62.0, 15.0] };
const COUNTRIES = Object.keys(HOME);
const FRAUD_COUNTRIES = ['RU', 'NG', 'BR', 'VN', 'RO'];
const FAR: Record<string, [number, number]> = { ...HOME, RU: [61.5, 105.3], NG: [9.1, 8.7], BR: [-14.2, -51.9], VN: [14.1, 108.3], RO: [45.9, 24.9] };
const MCCS = ['5411', '5812', '5541', '5999', '5732', '4111', '5311', '5912', '7011', '5944'];
const WEEK_MS = 7 * 86_400_000;
const HOUR_MS = 3_600_000;

export class TransactionSimulator {
  private readonly rng: Random;
  /** Profiles are derived from (seed, index) on first use, so large populations cost nothing up front. */
  private readonly accounts = new Map<number, Account>();
  private readonly merchants: Merchant[];
  private readonly byCountry = new Map<string, number[]>();
  private readonly pending = new DueQueue<SimulatedTransaction>();
  private serial = 0;

  constructor(private readonly options: SimulatorOptions = DEFAULT_SIMULATOR_OPTIONS) {
    this.rng = new Random(options.seed);
    this.merchants = Array.from({ length: options.merchants }, (_, i) => ({ id: `merch-${pad(i)}`, mcc: this.rng.pick(MCCS), country: this.rng.pick(COUNTRIES), compromisedUntil: -Infinity }));
    this.merchants.forEach((m, i) => this.byCountry.set(m.country, [...(this.byCountry.get(m.country) ?? []), i]));
  }

  /** The next transaction at or after `nowMs`: a queued episode event when one is due, else a new one. */
  next(nowMs: number): SimulatedTransaction {
    const due = this.pending.takeDue(nowMs);
    if (due !== undefined) return due;
    const account = this.account(this.rng.int(0, this.options.accounts - 1));
    // Fraudsters work more at night: a payment at UTC 0-5 starts an episode three times as often.
    const night = new Date(nowMs).getUTCHours() < 6;
    if (this.rng.chance(this.options.fraudRate * (night ? 2 : 0.67))) {
      this.startEpisode(account, nowMs);
      const first = this.pending.takeDue(nowMs);
      if (first !== undefined) return first;
    }
    return this.everyday(account, nowMs);
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
      const country = rng.pick(COUNTRIES);
      const local = this.byCountry.get(country) ?? [0];
      const cards = Array.from({ length: rng.int(1, 2) }, (_, k) => `card-${pad(i)}-${k}`);
      const devices = Array.from({ length: rng.int(1, 2) }, (_, k) => `dev-${pad(i)}-${k}`);
      const favourites = Array.from({ length: 5 }, () => rng.pick(local));
      const ip = `198.${rng.int(18, 19)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
      account = { index: i, id: `acct-${pad(i)}`, country, typicalAmount: rng.logNormal(3.4, 0.7), cards, devices, ip, favourites };
      this.accounts.set(i, account);
    }
    return account;
  }

  /** Where the customer is this week: a trip abroad for about 3% of customer-weeks, else home. */
  private whereabouts(account: Account, timeMs: number): string {
    const week = Math.floor(timeMs / WEEK_MS);
    const rng = new Random(Math.imul(this.options.seed ^ 0x51ed27, account.index + 1) ^ Math.imul(week + 7, 0x2c1b3c6d));
    return rng.chance(0.03) ? rng.pick(COUNTRIES.filter((c) => c !== account.country)) : account.country;
  }

  private base(account: Account, timeMs: number, merchant: Merchant, amount: number, channel: string): TransactionEvent {
    const event: TransactionEvent = {
      transactionId: `tx-${this.options.seed}-${++this.serial}`,
      accountId: account.id,
      amount: Math.round(Math.max(0.01, amount) * 100) / 100,
      currency: 'EUR',
      timestamp: new Date(timeMs).toISOString(),
      merchantId: merchant.id,
      merchantCategory: merchant.mcc,
      cardId: this.rng.pick(account.cards),
      deviceId: this.rng.pick(account.devices),
      ipAddress: account.ip,
      country: channel === 'ecom' ? merchant.country : this.whereabouts(account, timeMs),
      channel,
    };
    if (channel !== 'ecom') this.place(event, event.country as string);
    return event;
  }

  /** A till's position in the payment's country. */
  private place(event: TransactionEvent, country: string): void {
    const [lat, lon] = FAR[country] ?? [0, 0];
    event.lat = Math.round((lat + (this.rng.next() - 0.5) * 2) * 1e4) / 1e4;
    event.lon = Math.round((lon + (this.rng.next() - 0.5) * 2) * 1e4) / 1e4;
  }

  private localMerchant(country: string): Merchant {
    return this.merchants[this.rng.pick(this.byCountry.get(country) ?? [0])] as Merchant;
  }

  /** One legitimate payment, or the start of a legitimate habit that resembles fraud. */
  private everyday(account: Account, timeMs: number): SimulatedTransaction {
    const where = this.whereabouts(account, timeMs);
    const roll = this.rng.next();
    if (roll < 0.02) return this.transitBurst(account, timeMs, where);
    let amount = account.typicalAmount * this.rng.logNormal(0, 0.5);
    let channel = this.rng.chance(0.6) ? 'pos' : this.rng.chance(0.88) ? 'ecom' : 'atm';
    let merchant = where === account.country && this.rng.chance(0.8) ? (this.merchants[this.rng.pick(account.favourites)] as Merchant) : this.localMerchant(where);
    if (channel === 'ecom' && this.rng.chance(0.15)) merchant = this.localMerchant(this.rng.pick(COUNTRIES));
    if (roll < 0.03) {
      // A large purchase: a laptop, a hotel.
      amount = account.typicalAmount * (5 + this.rng.next() * 10);
      merchant = this.rng.chance(0.5) ? this.localMerchant(where) : this.merchants.find((m) => m.mcc === '5732' && m.country === where) ?? merchant;
    } else if (roll < 0.035) {
      // A new phone: a device never seen before, kept from now on.
      account.devices.push(`dev-${pad(account.index)}-${account.devices.length}`);
      channel = 'ecom';
    }
    const event = this.base(account, timeMs, merchant, amount, channel);
    if (roll >= 0.03 && roll < 0.035) event.deviceId = account.devices.at(-1);
    const skimmed = merchant.compromisedUntil > timeMs && channel !== 'ecom';
    return { event, eventTimeMs: timeMs, fraud: skimmed ? 'compromised_merchant' : null };
  }

  /** Several small payments at the till within half an hour: tickets, a car park, a vending machine. */
  private transitBurst(account: Account, timeMs: number, where: string): SimulatedTransaction {
    const card = this.rng.pick(account.cards);
    const merchant = this.localMerchant(where);
    let t = timeMs;
    const first = { ...this.base(account, t, merchant, 1 + this.rng.next() * 3, 'pos'), cardId: card };
    for (let k = this.rng.int(2, 5); k > 0; k--) {
      t += this.rng.int(60_000, 6 * 60_000);
      this.queue({ event: { ...this.base(account, t, merchant, 1 + this.rng.next() * 3, 'pos'), cardId: card }, eventTimeMs: t, fraud: null });
    }
    return { event: first, eventTimeMs: timeMs, fraud: null };
  }

  private queue(...events: SimulatedTransaction[]): void {
    for (const e of events) e.event.timestamp = new Date(e.eventTimeMs).toISOString();
    for (const e of events) this.pending.push(e);
  }

  private startEpisode(account: Account, nowMs: number): void {
    const roll = this.rng.next();
    const pattern: FraudPattern = roll < 0.3 ? 'card_testing' : roll < 0.55 ? 'account_takeover' : roll < 0.65 ? 'compromised_merchant' : roll < 0.85 ? 'amount_anomaly' : 'impossible_travel';
    const events: SimulatedTransaction[] = [];
    const push = (timeMs: number, event: TransactionEvent, fraud: FraudPattern | null = pattern): void => {
      events.push({ event, eventTimeMs: timeMs, fraud });
    };
    let t = nowMs;
    switch (pattern) {
      case 'card_testing': {
        const card = this.rng.pick(account.cards);
        for (let k = this.rng.int(5, 12); k > 0; k--) {
          push(t, { ...this.base(account, t, this.rng.pick(this.merchants), 0.5 + this.rng.next() * 2.5, 'ecom'), cardId: card });
          t += this.rng.int(2_000, 40_000);
        }
        // Then, now and then, the cash-out on the tested card.
        if (this.rng.chance(0.4)) push(t + this.rng.int(60_000, HOUR_MS), { ...this.base(account, t, this.rng.pick(this.merchants), account.typicalAmount * (3 + this.rng.next() * 8), 'ecom'), cardId: card });
        break;
      }
      case 'account_takeover': {
        const device = `dev-ato-${this.options.seed}-${this.serial}`;
        // Two takeovers in three come from abroad; the rest hide behind a home-country connection.
        const abroad = this.rng.chance(0.67);
        const country = abroad ? this.rng.pick(FRAUD_COUNTRIES) : account.country;
        const ip = abroad ? `203.0.113.${this.rng.int(1, 254)}` : `198.51.100.${this.rng.int(1, 254)}`;
        for (let k = this.rng.int(2, 4); k > 0; k--) {
          const amount = account.typicalAmount * (3 + this.rng.next() * 15);
          push(t, { ...this.base(account, t, this.rng.pick(this.merchants), amount, 'ecom'), deviceId: device, country, ipAddress: ip });
          t += this.rng.int(30_000, 240_000);
        }
        break;
      }
      case 'compromised_merchant': {
        // From now on, for one to two weeks, payments at this till are skimmed (see everyday()).
        const merchant = this.merchants[this.rng.pick(account.favourites)] as Merchant;
        merchant.compromisedUntil = nowMs + this.rng.int(7, 14) * 86_400_000;
        push(t, this.base(account, t, merchant, account.typicalAmount * this.rng.logNormal(0, 0.5), 'pos'));
        break;
      }
      case 'amount_anomaly':
        push(t, this.base(account, t, this.rng.pick(this.merchants), account.typicalAmount * (12 + this.rng.next() * 30), this.rng.chance(0.5) ? 'ecom' : 'pos'));
        break;
      case 'impossible_travel': {
        // The customer pays at home; within hours the cloned card pays at a till far away.
        const card = this.rng.pick(account.cards);
        push(t, { ...this.base(account, t, this.merchants[this.rng.pick(account.favourites)] as Merchant, account.typicalAmount * this.rng.logNormal(0, 0.5), 'pos'), cardId: card }, null);
        const far = this.rng.pick([...FRAUD_COUNTRIES, ...COUNTRIES].filter((c) => c !== account.country));
        for (let k = this.rng.int(1, 3); k > 0; k--) {
          t += this.rng.int(15 * 60_000, 3 * HOUR_MS);
          const event = { ...this.base(account, t, this.localMerchant(COUNTRIES.includes(far) ? far : account.country), account.typicalAmount * (1 + this.rng.next() * 5), 'pos'), cardId: card, country: far };
          this.place(event, far);
          push(t, event);
        }
        break;
      }
    }
    this.queue(...events);
  }
}

/** The arrival rate's shape over a day and a week (mean 1): quiet nights, busy evenings, livelier Saturdays. */
export function rhythm(timeMs: number): number {
  const date = new Date(timeMs);
  const hour = HOURLY[date.getUTCHours()] as number;
  const day = [0.85, 1, 1, 1, 1, 1.05, 1.1][date.getUTCDay()] as number;
  return hour * day;
}

const HOURLY = ((shape: number[]) => shape.map((x) => (x * shape.length) / shape.reduce((a, b) => a + b, 0)))([
  0.25, 0.15, 0.1, 0.1, 0.15, 0.3, 0.6, 0.9, 1.2, 1.3, 1.4, 1.5, 1.6, 1.5, 1.4, 1.4, 1.5, 1.6, 1.7, 1.6, 1.3, 1.0, 0.7, 0.45,
]);

function pad(n: number): string {
  return String(n).padStart(7, '0');
}
