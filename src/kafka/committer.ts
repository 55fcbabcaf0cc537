// Per partition, the offsets decided and the offsets the broker has accepted. A partition has
// at most one commit in flight; a later decided batch is covered by the next commit. A commit
// the broker refuses is logged, counted and tried again while the partition is still owned;
// a batch counts as committed only once a commit at or beyond its end was accepted.
import type { CommitRefusedError } from '../contract/errors.js';
import type { Logger } from '../observability/logger.js';
import { within } from '../pipeline/within.js';

export interface CommitTarget {
  topic: string;
  partition: number;
  /** Whether the partition is still this worker's (in the generation the offsets were decided in). */
  owned(): boolean;
}

export interface CommitterOptions {
  /** Sends a commit of `offset` (the next offset to read) and resolves once the broker accepted it. */
  send(topic: string, partition: number, offset: string): Promise<void>;
  /** After the broker accepted `offset` for the partition, with what was decided below it. */
  committed(target: CommitTarget, offset: bigint, reports: readonly unknown[]): void;
  /** A refused commit (logged here as well). */
  refused(target: CommitTarget, offset: bigint, err: CommitRefusedError): void;
  maxBackoffMs: number;
  logger: Logger;
}

interface PartitionCommits {
  target: CommitTarget;
  /** Next offset after the last decided batch. */
  decided: bigint;
  /** Next offset the broker has accepted (-1: none yet). */
  committed: bigint;
  sending: boolean;
  failures: number;
  retry: NodeJS.Timeout | null;
  /** Decided batches not yet committed, with the offset that commits them. */
  reports: { next: bigint; report: unknown }[];
  /** Waiting for this partition to be fully committed (a drain). */
  settled: (() => void)[];
}

export class Committer {
  private readonly partitions = new Map<string, PartitionCommits>();

  constructor(private readonly options: CommitterOptions) {}

  /** A batch ending before `next` was decided and its outputs acknowledged: commit it. */
  decided(key: string, target: CommitTarget, next: bigint, report: unknown): void {
    let p = this.partitions.get(key);
    if (p === undefined) this.partitions.set(key, (p = { target, decided: -1n, committed: -1n, sending: false, failures: 0, retry: null, reports: [], settled: [] }));
    // A rewound partition decides under a new generation; what it decided before still commits.
    p.target = target;
    if (next > p.decided) p.decided = next;
    p.reports.push({ next, report });
    this.pump(key, p);
  }

  /** The partition is no longer ours: nothing more is committed or reported for it. */
  forget(key: string): void {
    const p = this.partitions.get(key);
    if (p === undefined) return;
    if (p.retry) clearTimeout(p.retry);
    this.partitions.delete(key);
    for (const resolve of p.settled) resolve();
  }

  /**
   * Sends now the pending commit of every owned partition not already sending one, including
   * those waiting to retry a refusal. Called in rebalance callbacks: the group's new generation
   * is valid there, and the client does not rejoin until the callback returns.
   */
  flush(): void {
    for (const [key, p] of [...this.partitions]) {
      if (p.sending || p.committed >= p.decided) continue;
      if (p.retry !== null) clearTimeout(p.retry);
      p.retry = null;
      this.pump(key, p);
    }
  }

  /**
   * Waits until every owned partition's decided offsets are committed, or `timeoutMs` passed;
   * returns those still uncommitted (their last refusal, if any).
   */
  async drain(timeoutMs: number): Promise<{ topic: string; partition: number; offset: string }[]> {
    const open = () => [...this.partitions.values()].filter((p) => p.target.owned() && p.committed < p.decided);
    const waits = open().map((p) => new Promise<void>((resolve) => p.settled.push(resolve)));
    await within(Promise.all(waits), timeoutMs);
    return open().map((p) => ({ topic: p.target.topic, partition: p.target.partition, offset: p.decided.toString() }));
  }

  private pump(key: string, p: PartitionCommits): void {
    if (p.sending || p.retry !== null || p.committed >= p.decided) return;
    if (!p.target.owned()) {
      this.forget(key);
      return;
    }
    const offset = p.decided;
    p.sending = true;
    this.options.send(p.target.topic, p.target.partition, offset.toString()).then(
      () => this.accepted(key, p, offset),
      (err: CommitRefusedError) => this.refusedCommit(key, p, offset, err),
    );
  }

  private accepted(key: string, p: PartitionCommits, offset: bigint): void {
    p.sending = false;
    p.failures = 0;
    if (this.partitions.get(key) !== p) return; // forgotten meanwhile (revoked): not reported
    if (offset > p.committed) p.committed = offset;
    const done = p.reports.filter((r) => r.next <= p.committed);
    p.reports = p.reports.filter((r) => r.next > p.committed);
    this.options.committed(p.target, p.committed, done.map((r) => r.report));
    if (p.committed >= p.decided) {
      for (const resolve of p.settled.splice(0)) resolve();
      return;
    }
    this.pump(key, p);
  }

  private refusedCommit(key: string, p: PartitionCommits, offset: bigint, err: CommitRefusedError): void {
    p.sending = false;
    p.failures++;
    const owned = this.partitions.get(key) === p && p.target.owned();
    this.options.logger.warn(
      { topic: p.target.topic, partition: p.target.partition, offset: offset.toString(), code: err.code, err: err.message, attempt: p.failures, retrying: owned },
      owned ? 'commit refused; the batch is not committed and the commit is tried again' : 'commit refused for a partition no longer ours; its next owner reads it again',
    );
    this.options.refused(p.target, offset, err);
    if (!owned) return;
    // A commit refused in a rebalance goes through once the rebalance is over: try again soon.
    const waitMs = Math.min(this.options.maxBackoffMs, 1000, 100 * 2 ** Math.min(p.failures, 16));
    p.retry = setTimeout(() => {
      p.retry = null;
      if (this.partitions.get(key) === p) this.pump(key, p);
    }, waitMs);
  }
}
