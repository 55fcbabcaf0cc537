// The batches of a turn (worker.ts decides the transactions batches handed over in one turn of
// the event loop as one): their messages one after another with each one's journal, and the
// outcome cut back into one part per batch.
import type { JournalRecord, JournalTarget } from '../features/journal.js';
import type { BatchOutcome, Decided, InputJournal } from '../pipeline/process-batch.js';
import type { Rejected } from '../pipeline/validate.js';
import type { Batch, Message, PartitionLease } from './partition-consumer.js';

/** A transactions partition as this worker claimed it: its journal target, and what its journal held. */
export interface PartitionClaim {
  target: JournalTarget;
  /** Dropped once the partition has been read past it. */
  recorded: JournalRecord | undefined;
}

/** A batch as the transactions consumer handed it over. */
export interface HandedBatch {
  batch: Batch;
  lease: PartitionLease;
}

/** A batch of a turn whose partition is claimed: `k` is its place in the turn. */
export interface ClaimedBatch extends HandedBatch {
  claim: PartitionClaim;
  k: number;
}

/**
 * The turn's batches in groups decided as one, in order: consecutive batches while the group
 * holds at most `upTo` messages; a larger batch is a group of its own. Small batches (a few
 * events each at moderate rates) share their fixed costs; large ones (a backlog) stay apart,
 * so that one is scored while the next is in the store, as before.
 */
export function groupsUpTo<T extends HandedBatch>(items: readonly T[], upTo: number): T[][] {
  const groups: T[][] = [];
  let size = Infinity;
  for (const item of items) {
    const n = item.batch.messages.length;
    const last = groups.at(-1);
    if (last !== undefined && size + n <= upTo) {
      last.push(item);
      size += n;
    } else {
      groups.push([item]);
      size = n;
    }
  }
  return groups;
}

/** The batches' messages one after another, where each batch starts, and each message's journal. */
export function together(members: readonly ClaimedBatch[]): { messages: Message[]; starts: number[]; journal: InputJournal } {
  const messages: Message[] = [];
  const starts: number[] = [];
  const owner: ClaimedBatch[] = [];
  for (const m of members) {
    starts.push(messages.length);
    for (const message of m.batch.messages) {
      messages.push(message);
      owner.push(m);
    }
  }
  const journal: InputJournal = {
    targetOf: (i) => (owner[i] as ClaimedBatch).claim.target,
    offsetOf: (i) => Number((messages[i] as Message).offset),
    recordedOf: (i) => (owner[i] as ClaimedBatch).claim.recorded,
  };
  return { messages, starts, journal };
}

/**
 * Per batch, its decisions and rejections, with indexes into its own messages. The outcome's
 * own objects are handed out, their indexes rebased in place (a copy of each decision was
 * garbage per event at moderate rates, where most turns decide several batches together):
 * the outcome is not to be read by index afterwards.
 */
export function splitOutcome(outcome: BatchOutcome, starts: readonly number[]): { decided: Decided[]; rejected: Rejected[] }[] {
  if (starts.length === 1) return [{ decided: outcome.decided, rejected: outcome.rejected }];
  const parts = starts.map(() => ({ decided: [] as Decided[], rejected: [] as Rejected[] }));
  const partOf = (index: number): number => {
    let p = 0;
    while (p + 1 < starts.length && index >= (starts[p + 1] as number)) p++;
    return p;
  };
  for (const d of outcome.decided) {
    const p = partOf(d.index);
    d.index -= starts[p] as number;
    (parts[p] as { decided: Decided[] }).decided.push(d);
  }
  for (const r of outcome.rejected) {
    const p = partOf(r.index);
    r.index -= starts[p] as number;
    (parts[p] as { rejected: Rejected[] }).rejected.push(r);
  }
  return parts;
}
