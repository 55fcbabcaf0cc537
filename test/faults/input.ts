// The fault suite's input: a deterministic stream of simulated transactions (the project's
// simulator on a virtual clock that advances 1/rate per event), every Nth one deliberately
// malformed, and the labels a fraud team would send, each when the virtual clock reaches the
// time it became known. The same options give the same messages, byte for byte.
import { LabelQueue } from '../../src/simulate/label-queue.js';
import { DEFAULT_SIMULATOR_OPTIONS, TransactionSimulator } from '../../src/simulate/simulator.js';

export interface InputOptions {
  seed: number;
  accounts: number;
  merchants: number;
  /** Share of events that start a fraud episode. */
  fraudRate: number;
  /** Events per second of event time (and of wall-clock time, for the steady producer). */
  rate: number;
  /** Event time of the first transaction. */
  startMs: number;
  /** Every this-many-th event is malformed (0: none). */
  malformedEvery: number;
  /** Mean delay before a transaction's label is known. */
  labelDelayMs: number;
}

export const DEFAULT_INPUT: InputOptions = {
  seed: 42,
  accounts: 2000,
  merchants: 300,
  fraudRate: 0.02,
  rate: 100,
  // A fixed event time makes the input reproducible; a night hour, when the simulator's
  // fraudsters are busiest.
  startMs: Date.parse('2026-03-03T01:00:00Z'),
  malformedEvery: 250,
  labelDelayMs: 10_000,
};

/** Marks a deliberately malformed input: the verifier's oracle for "must be dead-lettered" (the worker ignores headers). */
export const MALFORMED_HEADER = 'fd-faults.malformed';

export interface InputMessage {
  key: string;
  value: string | null;
  headers?: Record<string, string>;
}

/** The three kinds the contract dead-letters: not JSON, not the schema, empty. */
const MALFORMED = [
  (value: string): string => value.slice(0, Math.max(1, value.length >> 1)),
  (value: string): string => JSON.stringify({ ...(JSON.parse(value) as object), amount: 'lots' }),
  (): null => null,
];
const MALFORMED_KIND = ['not-json', 'schema', 'empty'];

export class InputStream {
  private readonly simulator: TransactionSimulator;
  private readonly labels = new LabelQueue();
  private index = 0;

  constructor(private readonly options: InputOptions) {
    this.simulator = new TransactionSimulator({ ...DEFAULT_SIMULATOR_OPTIONS, seed: options.seed, accounts: options.accounts, merchants: options.merchants, fraudRate: options.fraudRate, labelDelayMs: options.labelDelayMs });
  }

  /** Event time of the virtual clock after `count` events. */
  clockAt(count: number): number {
    return this.options.startMs + Math.floor((count * 1000) / this.options.rate);
  }

  /** The next transaction message; a malformed one now and then. */
  nextTransaction(): InputMessage {
    const now = this.clockAt(this.index);
    const s = this.simulator.next(now);
    this.index++;
    const value = JSON.stringify(s.event);
    const every = this.options.malformedEvery;
    if (every > 0 && this.index % every === 0) {
      const kind = (this.index / every) % MALFORMED.length;
      return { key: s.event.accountId, value: (MALFORMED[kind] as (v: string) => string | null)(value), headers: { [MALFORMED_HEADER]: MALFORMED_KIND[kind] as string } };
    }
    const label = this.simulator.labelFor(s);
    this.labels.push({ at: Date.parse(label.timestamp), key: label.accountId, value: JSON.stringify(label) });
    return { key: s.event.accountId, value };
  }

  /** Labels known by the virtual clock's current time, earliest first. */
  dueLabels(): InputMessage[] {
    return this.labels.due(this.clockAt(this.index)).map(({ key, value }) => ({ key, value }));
  }
}
