// Applies history to the feature store again, with the same engine `run` uses: transactions
// through the feature computation (only the windows they move matter here), labels to the
// label windows. Applying an event twice changes nothing (the store skips a transaction
// already applied), so a rebuild can be run again, or over state that survived.
//
// The partitions of a topic are applied in step, by event time: an entity shared across
// partitions (a merchant, a device) must see its events within the allowed lateness of each
// other, or the later-applied partition's events would be "too late" and left out. Each
// partition's records wait in a queue until every partition still being read has reached
// their time (the frontier); then all records up to the frontier are applied in time order.
import type { EventLimits } from '../contract/decode.js';
import { InvalidEventError } from '../contract/errors.js';
import { parseLabel, type LabelEvent } from '../contract/label.js';
import { parseTransaction, type ParsedTransaction } from '../contract/transaction.js';
import type { FeatureClock } from '../features/clock.js';
import type { FeatureSet } from '../features/definitions.js';
import { applyLabels, computeFeatures } from '../features/engine.js';
import type { FeatureStore } from '../features/store.js';

export interface RebuildCounts {
  transactions: number;
  labels: number;
  /** Records that are not valid events (the worker dead-lettered them): nothing to apply. */
  skipped: number;
}

export type HistoryKind = 'transactions' | 'labels';

/** One topic's partitions, merged by time. */
class Frontier<T> {
  private readonly queues = new Map<number, T[]>();
  private readonly open = new Set<number>();

  constructor(
    partitions: readonly number[],
    private readonly timeOf: (item: T) => number,
  ) {
    for (const p of partitions) {
      this.open.add(p);
      this.queues.set(p, []);
    }
  }

  add(partition: number, items: readonly T[]): void {
    const queue = this.queues.get(partition);
    if (queue === undefined) this.queues.set(partition, [...items]);
    else for (const item of items) queue.push(item);
  }

  close(partition: number): void {
    this.open.delete(partition);
  }

  /** Takes every item no later than what each open partition has reached, in time order (stable). */
  takeDue(): T[] {
    let frontier = Infinity;
    for (const p of this.open) {
      const queue = this.queues.get(p) as T[];
      const last = queue[queue.length - 1];
      if (last === undefined) return []; // an open partition with nothing queued: it may still bring earlier records
      frontier = Math.min(frontier, this.timeOf(last));
    }
    const due: { item: T; at: number; seq: number }[] = [];
    let seq = 0;
    for (const queue of this.queues.values()) {
      let n = 0;
      while (n < queue.length && this.timeOf(queue[n] as T) <= frontier) n++;
      for (const item of queue.splice(0, n)) due.push({ item, at: this.timeOf(item), seq: seq++ });
    }
    return due.sort((a, b) => a.at - b.at || a.seq - b.seq).map((d) => d.item);
  }

  /** Items waiting (for the memory bound of the reader). */
  queued(partition: number): number {
    return this.queues.get(partition)?.length ?? 0;
  }
}

export class HistoryApplier {
  readonly counts: RebuildCounts = { transactions: 0, labels: 0, skipped: 0 };
  private readonly txs: Frontier<ParsedTransaction>;
  private readonly labelQueue: Frontier<LabelEvent>;

  constructor(
    private readonly features: FeatureSet,
    private readonly store: FeatureStore,
    private readonly clock: FeatureClock,
    private readonly options: { eventLimits: EventLimits; chunk: number; partitions: Record<HistoryKind, readonly number[]> },
  ) {
    this.txs = new Frontier(options.partitions.transactions, (t) => t.eventTimeMs);
    this.labelQueue = new Frontier(options.partitions.labels, (l) => l.knownAtMs);
  }

  /** A batch of one partition, in offset order: queued, and whatever is due applied. */
  async add(kind: HistoryKind, partition: number, values: readonly (Buffer | null)[]): Promise<void> {
    if (kind === 'transactions') this.txs.add(partition, this.valid(values, (v) => parseTransaction(v, this.options.eventLimits)));
    else this.labelQueue.add(partition, this.valid(values, (v) => parseLabel(v, this.options.eventLimits)));
    await this.applyDue();
  }

  /** The partition has been read to its end. */
  async close(kind: HistoryKind, partition: number): Promise<void> {
    (kind === 'transactions' ? this.txs : this.labelQueue).close(partition);
    await this.applyDue();
  }

  queued(kind: HistoryKind, partition: number): number {
    return (kind === 'transactions' ? this.txs : this.labelQueue).queued(partition);
  }

  private async applyDue(): Promise<void> {
    const txs = this.txs.takeDue();
    for (let i = 0; i < txs.length; i += this.options.chunk) {
      await computeFeatures(txs.slice(i, i + this.options.chunk), this.features, this.store, undefined, this.clock);
    }
    this.counts.transactions += txs.length;
    const labels = this.labelQueue.takeDue();
    for (let i = 0; i < labels.length; i += this.options.chunk) await applyLabels(labels.slice(i, i + this.options.chunk), this.features, this.store);
    this.counts.labels += labels.length;
  }

  private valid<T>(values: readonly (Buffer | null)[], parse: (value: Buffer | null) => T): T[] {
    const out: T[] = [];
    for (const value of values) {
      try {
        out.push(parse(value));
      } catch (err) {
        if (!(err instanceof InvalidEventError)) throw err;
        this.counts.skipped++;
      }
    }
    return out;
  }
}
