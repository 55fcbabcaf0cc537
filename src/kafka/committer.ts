// Per partition, the offsets decided and the offsets the broker has accepted. A partition has
// at most one commit in flight; a later decided batch is covered by the next commit. The
// partitions' commits due within `intervalMs` go out together, in one request: at a few events
// per batch, a commit per batch and partition was one request, one broker write and one
// journal release each (Kafka Streams commits on an interval too). A commit the broker
// refuses is logged, counted and tried again while the partition is still owned; a batch
// counts as committed only once a commit at or beyond its end was accepted.
import type { CommitRefusedError } from '../contract/errors.js';
import type { Logger } from '../observability/logger.js';
import { within } from '../pipeline/within.js';

export interface CommitTarget {
  topic: string;
  partition: number;
  /** Whether the partition is still this worker's (in the generation the offsets were decided in). */
  owned(): boolean;
}

/** A partition's offset to commit: the next offset to read. */
export interface CommitRequest {
  topic: string;
  partition: number;
  offset: string;
}

export interface CommitterOptions {
  /** Sends the commits in one request; each answer resolves once the broker accepted that partition's offset. */
  send(requests: readonly CommitRequest[]): readonly Promise<void>[];
  /** After the broker accepted `offset` for the partition, with what was decided below it. */
  committed(target: CommitTarget, offset: bigint, reports: readonly unknown[]): void;
  /** A refused commit (logged here as well). */
  refused(target: CommitTarget, offset: bigint, err: CommitRefusedError): void;
  maxBackoffMs: number;
  /** How long a decided batch's offsets may wait to share a commit with other batches and partitions (0: sent at once). */
  intervalMs: number;
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
  /** Set while commits wait for the interval to end. */
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: CommitterOptions) {}

  /** A batch ending before `next` was decided and its outputs acknowledged: commit it. */
  decided(key: string, target: CommitTarget, next: bigint, report: unknown): void {
    let p = this.partitions.get(key);
    if (p === undefined) this.partitions.set(key, (p = { target, decided: -1n, committed: -1n, sending: false, failures: 0, retry: null, reports: [], settled: [] }));
    // A rewound partition decides under a new generation; what it decided before still commits.
    p.target = target;
    if (next > p.decided) p.decided = next;
    p.reports.push({ next, report });
    this.due();
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
    for (const p of this.partitions.values()) {
      if (p.sending || p.committed >= p.decided || p.retry === null) continue;
      clearTimeout(p.retry);
      p.retry = null;
    }
    this.sendDue();
  }

  /**
   * Waits until every owned partition's decided offsets are committed, or `timeoutMs` passed;
   * returns those still uncommitted (their last refusal, if any).
   */
  async drain(timeoutMs: number): Promise<{ topic: string; partition: number; offset: string }[]> {
    this.sendDue();
    const open = () => [...this.partitions.values()].filter((p) => p.target.owned() && p.committed < p.decided);
    const waits = open().map((p) => new Promise<void>((resolve) => p.settled.push(resolve)));
    await within(Promise.all(waits), timeoutMs);
    return open().map((p) => ({ topic: p.target.topic, partition: p.target.partition, offset: p.decided.toString() }));
  }

  /** Commits are due: sent now, or once the interval ends. */
  private due(): void {
    if (this.options.intervalMs <= 0) {
      this.sendDue();
      return;
    }
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sendDue();
    }, this.options.intervalMs);
    // Never what keeps a process alive: a stop drains (sends at once) what is due.
    this.timer.unref();
  }

  /** One request with every owned partition's pending commit that is neither in flight nor waiting to retry. */
  private sendDue(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const sending: { key: string; p: PartitionCommits; offset: bigint }[] = [];
    for (const [key, p] of [...this.partitions]) {
      if (p.sending || p.retry !== null || p.committed >= p.decided) continue;
      if (!p.target.owned()) {
        this.forget(key);
        continue;
      }
      p.sending = true;
      sending.push({ key, p, offset: p.decided });
    }
    if (sending.length === 0) return;
    const answers = this.options.send(sending.map(({ p, offset }) => ({ topic: p.target.topic, partition: p.target.partition, offset: offset.toString() })));
    sending.forEach(({ key, p, offset }, i) => {
      (answers[i] as Promise<void>).then(
        () => this.accepted(key, p, offset),
        (err: CommitRefusedError) => this.refusedCommit(key, p, offset, err),
      );
    });
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
    this.due();
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
      if (this.partitions.get(key) === p) this.sendDue();
    }, waitMs);
  }
}
