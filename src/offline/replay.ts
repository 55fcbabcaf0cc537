// `replay` over files: transactions (and labels) read through the contract's validation,
// decided in event-time order through the pipeline, one decision per valid line written in
// input order, every refused line to the rejects file with its line number and code.
//
// Files already in event-time order (what a log or a simulator writes) are decided as they
// are read, labels read as they become due, and each decision written as soon as its chunk is
// decided: memory does not grow with the files. Input order and event-time order (ties by
// line) are then the same order. At the first valid line out of time order in either file the
// streamed pass stops, and the files are replayed again from the start, on a fresh store,
// sorted in bounded memory (external-sort.ts: sorted runs in temporary files, merged), and the
// decisions put back in input order the same way.
import { constants, createWriteStream, type WriteStream } from 'node:fs';
import { access } from 'node:fs/promises';
import type { EventLimits } from '../contract/decode.js';
import type { DecisionOutcome } from '../contract/decision.js';
import { parseLabel } from '../contract/label.js';
import { parseTransaction } from '../contract/transaction.js';
import type { FeatureStore } from '../features/store.js';
import { featuresOf, processBatch, type PipelineDeps } from '../pipeline/process-batch.js';
import { ExternalSorter, type SortRecord } from './external-sort.js';
import { streamLabels, streamTransactions, streamValid, type LabelLine, type TransactionLine } from './input-lines.js';
import { closeStream, decisionLine, linesBytes, writeBytes } from './output-lines.js';
import type { ChunkDecider, DecidedChunk } from './threaded-decider.js';
import { rejectsWriter, type RejectFn, type Rejects } from './rejects.js';
import { CHUNK, LabelStream, replayInTimeOrder, withStagedLabels } from './timeline.js';

export interface ReplayFiles {
  transactions: string;
  labels?: string;
  out: string;
  rejects: string;
  /** Memory each sort of the sorted pass holds before it writes a run to a temporary file (external-sort.ts). */
  sortBytes?: number;
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

export interface ReplayOptions {
  /**
   * Decides the chunks of a file in time order on another thread (threaded-decider.ts), built
   * from the same configuration as `deps`: the features of the next chunk are computed while it
   * scores and writes the last. Without it, one thread does both.
   */
  decider?: ChunkDecider;
}

/** `deps` builds every decision in full; `newStore` gives a fresh in-memory store (one per pass). */
export async function replayFiles(deps: Omit<PipelineDeps, 'store'>, newStore: () => FeatureStore, limits: EventLimits, files: ReplayFiles, options: ReplayOptions = {}): Promise<ReplayResult> {
  // A labels file that cannot be read fails the replay before anything is written, as when it was read first.
  if (files.labels !== undefined) await access(files.labels, constants.R_OK);
  const pass = (replay: typeof replayStreamed) => replayPass(files, (rejects, out) => replay({ ...deps, store: newStore() }, limits, files, rejects, out, options.decider));
  const streamed = await pass(replayStreamed);
  const counts = streamed ?? (await pass(replaySorted));
  if (counts === null) throw new Error('the sorted pass gave up'); // it never does: it returns a count
  return { ...counts, streamed: streamed !== null };
}

type Counts = Pick<ReplayResult, 'transactions' | 'outcomes' | 'labels' | 'rejected' | 'rejectedByCode'>;

/** One pass writing `out` and the rejects file from the start; null when the pass gave up. */
async function replayPass(files: ReplayFiles, pass: (rejects: Rejects, out: Tally) => Promise<number | null>): Promise<Counts | null> {
  const rejects = rejectsWriter(files.rejects);
  const out = new Tally(createWriteStream(files.out));
  try {
    const labels = await pass(rejects, out);
    if (labels === null) return null;
    return { transactions: out.count, outcomes: out.outcomes, labels, rejected: rejects.count(), rejectedByCode: rejects.byCode() };
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
}

/**
 * Decides the files as they are read, while both are in event-time order; the number of
 * labels read, or null at the first line out of that order. Bad label lines are reported
 * after the transactions' (as when both files were read first).
 */
async function replayStreamed(deps: PipelineDeps, limits: EventLimits, files: ReplayFiles, rejects: Rejects, out: Tally, decider?: ChunkDecider): Promise<number | null> {
  const labelRejects: Parameters<RejectFn>[] = [];
  const labels = files.labels === undefined ? null : new LabelStream(streamLabels(files.labels, limits, (...r) => void labelRejects.push(r)));
  let ordered = true;
  const inOrder = (): boolean => ordered && labels?.outOfOrder !== true;
  async function* inTimeOrder(): AsyncGenerator<TransactionLine> {
    let lastMs = -Infinity;
    for await (const line of streamTransactions(files.transactions, limits, rejects.reject)) {
      if (line.tx.eventTimeMs < lastMs) ordered = false;
      if (!inOrder()) return;
      lastMs = line.tx.eventTimeMs;
      yield line;
    }
  }
  // Decisions come in chunk order, which is input order here; one write per chunk (a write per
  // line cost more than the lines' own serialisation). A pass given up decides nothing more.
  const labelled = withStagedLabels(deps);
  const deciding =
    decider &&
    new Deciding(decider, labelled.deps, async (_, { bytes, outcomes }) => {
      if (!inOrder()) return;
      for (const o of outcomes) out.note(o);
      if (bytes.length > 0) await writeBytes(out.stream, bytes);
    });
  try {
    await replayInTimeOrder(inTimeOrder(), labels ?? [], CHUNK, labelled.stage, async (chunk) => {
      if (!inOrder()) return;
      if (deciding !== undefined) return deciding.push(chunk);
      const outcome = await processBatch(chunk, (l) => l.tx, labelled.deps);
      if (outcome.decided.length === 0) return;
      for (const d of outcome.decided) out.note(d.outcome);
      await writeBytes(out.stream, linesBytes(outcome.decided, decisionLine));
    });
    await deciding?.drain();
    // Labels known after the last transaction are applied to nothing, but counted, and must be in order too.
    if (inOrder()) await labels?.drain();
  } finally {
    // A pass that failed or gave up still waits for its chunks: nothing of it is written later.
    await deciding?.settled();
    await labels?.close();
  }
  if (!inOrder()) return null;
  for (const r of labelRejects) rejects.reject(...r);
  return labels?.read ?? 0;
}

const NEWLINE = Buffer.from('\n');
const NEWLINE_BYTE = 0x0a;

/** Chunks handed to the decider and not yet taken: enough to keep both threads busy, few enough to bound memory. */
const DECIDING_AHEAD = 4;

/**
 * Chunks through a decider on another thread: this thread computes a chunk's features (the
 * store's state is one, in event-time order) and goes on with the next while the decider
 * scores it; `take` gets each chunk's decisions in chunk order.
 */
class Deciding {
  private readonly queue: { chunk: TransactionLine[]; decided: Promise<DecidedChunk> }[] = [];

  constructor(
    private readonly decider: ChunkDecider,
    private readonly deps: PipelineDeps,
    private readonly take: (chunk: TransactionLine[], decided: DecidedChunk) => Promise<void>,
  ) {}

  async push(chunk: TransactionLine[]): Promise<void> {
    // processBatch's first half; a chunk's lines are already valid (the decider decides them all).
    const { rejected, features } = await featuresOf(chunk, (l) => l.tx, this.deps);
    if (rejected.length > 0) throw new Error(`line ${(chunk[rejected[0]?.index ?? 0] as TransactionLine).lineNo} was refused after it was read as valid`);
    const decided = this.decider.decide(chunk, features);
    // Awaited in order by `until`; a failure is seen there, not as an unhandled rejection meanwhile.
    decided.catch(() => undefined);
    this.queue.push({ chunk, decided });
    await this.until(DECIDING_AHEAD);
  }

  /** Every chunk pushed, taken. */
  drain(): Promise<void> {
    return this.until(0);
  }

  /** Waits for the chunks still being decided, taking none (a pass that failed or gave up). */
  async settled(): Promise<void> {
    await Promise.allSettled(this.queue.map((q) => q.decided));
  }

  private async until(pending: number): Promise<void> {
    while (this.queue.length > pending) {
      const { chunk, decided } = this.queue.shift() as { chunk: TransactionLine[]; decided: Promise<DecidedChunk> };
      await this.take(chunk, await decided);
    }
  }
}

/** Each record's payload parsed again (it was validated once, when the file was read). */
async function* reparsed<V>(records: AsyncIterable<SortRecord>, parse: (record: SortRecord) => V): AsyncGenerator<V> {
  for await (const record of records) yield parse(record);
}

/**
 * The files sorted in bounded memory, decided in event-time order (ties by line; labels ties
 * in file order), decisions written in input order; the number of labels read.
 */
async function replaySorted(deps: PipelineDeps, limits: EventLimits, files: ReplayFiles, rejects: Rejects, out: Tally, decider?: ChunkDecider): Promise<number> {
  const transactions = new ExternalSorter(files.sortBytes);
  const labels = new ExternalSorter(files.sortBytes);
  const decisions = new ExternalSorter(files.sortBytes);
  try {
    for await (const l of streamValid(files.transactions, limits, rejects.reject, (v) => parseTransaction(v, limits))) await transactions.add(l.value.eventTimeMs, l.lineNo, l.raw);
    let labelCount = 0;
    if (files.labels !== undefined) for await (const l of streamValid(files.labels, limits, rejects.reject, (v) => parseLabel(v, limits))) await labels.add(l.value.knownAtMs, labelCount++, l.raw);
    const txLines = reparsed(transactions.sorted(), (r): TransactionLine => ({ lineNo: r.tie, tx: parseTransaction(r.payload, limits), raw: r.payload }));
    const labelLines = new LabelStream(reparsed(labels.sorted(), (r): LabelLine => parseLabel(r.payload, limits)));
    const labelled = withStagedLabels(deps);
    // Each line of a chunk decided on the decide thread, to the sorter by its line number.
    const deciding =
      decider &&
      new Deciding(decider, labelled.deps, async (chunk, { bytes, outcomes }) => {
        let start = 0;
        for (let i = 0; i < outcomes.length; i++) {
          const end = bytes.indexOf(NEWLINE_BYTE, start);
          await decisions.add((chunk[i] as TransactionLine).lineNo, 0, bytes.subarray(start, end));
          out.note(outcomes[i] as DecisionOutcome);
          start = end + 1;
        }
      });
    try {
      await replayInTimeOrder(txLines, labelLines, CHUNK, labelled.stage, async (chunk) => {
        if (deciding !== undefined) return deciding.push(chunk);
        const outcome = await processBatch(chunk, (l) => l.tx, labelled.deps);
        for (const d of outcome.decided) await decisions.add((chunk[d.index] as TransactionLine).lineNo, 0, Buffer.from(decisionLine(d)));
        for (const d of outcome.decided) out.note(d.outcome);
      });
      await deciding?.drain();
    } finally {
      await deciding?.settled();
      // Labels known after the last transaction are left unread: their sorted runs' files are closed here.
      await Promise.all([labelLines.close(), txLines.return(undefined)]);
    }
    let lines: Buffer[] = [];
    for await (const d of decisions.sorted()) {
      lines.push(d.payload, NEWLINE);
      if (lines.length >= 2 * CHUNK) {
        await writeBytes(out.stream, Buffer.concat(lines));
        lines = [];
      }
    }
    if (lines.length > 0) await writeBytes(out.stream, Buffer.concat(lines));
    return labelCount;
  } finally {
    await Promise.all([transactions.dispose(), labels.dispose(), decisions.dispose()]);
  }
}
