// `replay` over files: transactions (and labels) read through the contract's validation,
// decided in event-time order through the pipeline, one decision per valid line written in
// input order, every refused line to the rejects file with its line number and code.
//
// A file already in event-time order (what a log or a simulator writes) is decided as it is
// read and each decision written as soon as its chunk is decided: memory does not grow with the
// file. Input order and event-time order (ties by line) are then the same order. At the first
// valid line out of time order the streamed pass stops, and the file is replayed again from
// the start, on a fresh store, held in memory and sorted (sorting in bounded memory, through
// temporary files, is not done yet).
import { createWriteStream, type WriteStream } from 'node:fs';
import type { EventLimits } from '../contract/decode.js';
import type { DecisionOutcome } from '../contract/decision.js';
import type { FeatureStore } from '../features/store.js';
import { processBatch, type PipelineDeps } from '../pipeline/process-batch.js';
import { byEventTime } from './history.js';
import { readLabels, readTransactions, streamTransactions, type LabelLine, type TransactionLine } from './input-lines.js';
import { closeStream, writeLine } from './output-lines.js';
import { rejectsWriter, type RejectFn, type Rejects } from './rejects.js';
import { CHUNK, replayDecisions, replayInTimeOrder, withStagedLabels } from './timeline.js';

export interface ReplayFiles {
  transactions: string;
  labels?: string;
  out: string;
  rejects: string;
}

export interface ReplayResult {
  transactions: number;
  outcomes: Record<DecisionOutcome, number>;
  labels: number;
  rejected: number;
  /** Refused lines per code (FD_EVENT_*). */
  rejectedByCode: Map<string, number>;
  /** Whether the file was in event-time order and decided as it was read. */
  streamed: boolean;
}

/** `deps` builds every decision in full; `newStore` gives a fresh in-memory store (one per pass). */
export async function replayFiles(deps: Omit<PipelineDeps, 'store'>, newStore: () => FeatureStore, limits: EventLimits, files: ReplayFiles): Promise<ReplayResult> {
  // Bad label lines are reported after the transactions' (as when both files were read first).
  const labelRejects: Parameters<RejectFn>[] = [];
  const labels = files.labels ? await readLabels(files.labels, limits, (...r) => void labelRejects.push(r)) : [];
  const pass = (replay: typeof replayStreamed) => replayPass(files, labelRejects, (rejects, out) => replay({ ...deps, store: newStore() }, limits, files.transactions, labels, rejects, out));
  const streamed = await pass(replayStreamed);
  // The sorted pass never gives up.
  const counts = streamed ?? (await pass(replaySorted));
  return { ...(counts as Counts), labels: labels.length, streamed: streamed !== null };
}

type Counts = Pick<ReplayResult, 'transactions' | 'outcomes' | 'rejected' | 'rejectedByCode'>;

/** One pass writing `out` and the rejects file from the start; null when the pass gave up. */
async function replayPass(files: ReplayFiles, labelRejects: readonly Parameters<RejectFn>[], pass: (rejects: Rejects, out: Tally) => Promise<boolean>): Promise<Counts | null> {
  const rejects = rejectsWriter(files.rejects);
  const out = new Tally(createWriteStream(files.out));
  try {
    if (!(await pass(rejects, out))) return null;
    for (const r of labelRejects) rejects.reject(...r);
    return { transactions: out.count, outcomes: out.outcomes, rejected: rejects.count(), rejectedByCode: rejects.byCode() };
  } finally {
    await Promise.all([closeStream(out.stream), rejects.close()]);
  }
}

/** Decisions written in order, counted by outcome. */
class Tally {
  count = 0;
  readonly outcomes: Record<DecisionOutcome, number> = { allow: 0, review: 0, block: 0 };

  constructor(readonly stream: WriteStream) {}

  note(outcome: DecisionOutcome): void {
    this.count++;
    this.outcomes[outcome]++;
  }

  async write(outcome: DecisionOutcome, json: string): Promise<void> {
    this.note(outcome);
    await writeLine(this.stream, json);
  }
}

/** Decides the file as it is read, while it is in event-time order; false at the first line out of it. */
async function replayStreamed(deps: PipelineDeps, limits: EventLimits, file: string, labels: readonly LabelLine[], rejects: Rejects, out: Tally): Promise<boolean> {
  let ordered = true;
  async function* inTimeOrder(): AsyncGenerator<TransactionLine> {
    let lastMs = -Infinity;
    for await (const line of streamTransactions(file, limits, rejects.reject)) {
      if (line.tx.eventTimeMs < lastMs) {
        ordered = false;
        return;
      }
      lastMs = line.tx.eventTimeMs;
      yield line;
    }
  }
  // Decisions come in chunk order, which is input order here; one write per chunk (a write per
  // line cost more than the lines' own serialisation). A pass given up decides nothing more.
  const labelled = withStagedLabels(deps);
  await replayInTimeOrder(inTimeOrder(), labels, CHUNK, labelled.stage, async (chunk) => {
    if (!ordered) return;
    const outcome = await processBatch(chunk, (l) => l.tx, labelled.deps);
    if (outcome.decided.length === 0) return;
    for (const d of outcome.decided) out.note(d.outcome);
    await writeLine(out.stream, outcome.decided.map((d) => JSON.stringify(d.decision)).join('\n'));
  });
  return ordered;
}

/** The whole file in memory, decided in event-time order, written in input order. */
async function replaySorted(deps: PipelineDeps, limits: EventLimits, file: string, labels: readonly LabelLine[], rejects: Rejects, out: Tally): Promise<boolean> {
  const lines = await readTransactions(file, limits, rejects.reject);
  const decisions = new Map<number, { json: string; outcome: DecisionOutcome }>();
  await replayDecisions(deps, byEventTime(lines), labels, (d, line) => {
    decisions.set(line.lineNo, { json: JSON.stringify(d.decision), outcome: d.outcome });
  });
  for (const l of lines) {
    const d = decisions.get(l.lineNo) as { json: string; outcome: DecisionOutcome };
    await out.write(d.outcome, d.json);
  }
  return true;
}
