// `replay` over files: transactions (and labels) read through the contract's validation,
// decided in event-time order through the pipeline, one decision per valid line written in
// input order, every refused line to the rejects file with its line number and code.
import { createWriteStream } from 'node:fs';
import type { EventLimits } from '../contract/decode.js';
import type { DecisionOutcome } from '../contract/decision.js';
import type { PipelineDeps } from '../pipeline/process-batch.js';
import { byEventTime } from './history.js';
import { readLabels, readTransactions } from './input-lines.js';
import { closeStream, writeLine } from './output-lines.js';
import { rejectsWriter } from './rejects.js';
import { replayDecisions } from './timeline.js';

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
}

/** `deps` over a fresh in-memory store, building every decision in full. */
export async function replayFiles(deps: PipelineDeps, limits: EventLimits, files: ReplayFiles): Promise<ReplayResult> {
  const rejects = rejectsWriter(files.rejects);
  try {
    const lines = await readTransactions(files.transactions, limits, rejects.reject);
    const labels = files.labels ? await readLabels(files.labels, limits, rejects.reject) : [];
    const decisions = new Map<number, { json: string; outcome: DecisionOutcome }>();
    await replayDecisions(deps, byEventTime(lines), labels, (d, line) => {
      decisions.set(line.lineNo, { json: JSON.stringify(d.decision), outcome: d.outcome });
    });
    const out = createWriteStream(files.out);
    const outcomes: Record<DecisionOutcome, number> = { allow: 0, review: 0, block: 0 };
    for (const l of lines) {
      const d = decisions.get(l.lineNo) as { json: string; outcome: DecisionOutcome };
      outcomes[d.outcome]++;
      await writeLine(out, d.json);
    }
    await closeStream(out);
    return { transactions: lines.length, outcomes, labels: labels.length, rejected: rejects.count(), rejectedByCode: rejects.byCode() };
  } finally {
    await rejects.close();
  }
}
