// Point-in-time training data: history replayed through the serving feature code, one CSV row
// per transaction with its features as they were at that moment, plus its latest label.
import { createWriteStream } from 'node:fs';
import type { EventLimits } from '../contract/decode.js';
import { computeFeatures } from '../features/engine.js';
import type { PipelineDeps } from '../pipeline/process-batch.js';
import { byEventTime, latestLabels } from './history.js';
import { readLabels, readTransactions } from './input-lines.js';
import { closeStream, writeLine } from './output-lines.js';
import { rejectsWriter } from './rejects.js';
import { CHUNK, replayInTimeOrder, withStagedLabels } from './timeline.js';

export const EXPORT_KEY_COLUMNS = ['transactionId', 'accountId', 'cardId', 'eventTime'] as const;

export interface ExportResult {
  rows: number;
  labels: number;
  rejected: number;
  rejectsPath: string;
}

/**
 * Writes the point-in-time features of a transactions file (and its labels) as CSV. `deps`: a
 * fresh in-memory store, and the clock bound (clock.ts).
 */
export async function exportFeatures(deps: Pick<PipelineDeps, 'features' | 'store' | 'clock'>, limits: EventLimits, files: { transactions: string; labels?: string; out: string; rejects: string }): Promise<ExportResult> {
  const labelled = withStagedLabels(deps);
  const { features: set, store, clock } = labelled.deps;
  const rejects = rejectsWriter(files.rejects);
  const lines = byEventTime(await readTransactions(files.transactions, limits, rejects.reject));
  const labelLines = files.labels ? await readLabels(files.labels, limits, rejects.reject) : [];
  const labels = latestLabels(labelLines);
  const out = createWriteStream(files.out);
  await writeLine(out, [...EXPORT_KEY_COLUMNS, ...set.names, 'label'].join(','));
  await replayInTimeOrder(lines, labelLines, CHUNK, labelled.stage, async (chunk) => {
    const f = await computeFeatures(chunk.map((l) => l.tx), set, store, undefined, clock);
    for (let row = 0; row < chunk.length; row++) {
      const tx = (chunk[row] as (typeof chunk)[number]).tx;
      const values = Array.from(f.matrix.subarray(row * set.names.length, (row + 1) * set.names.length), (v) => String(v));
      const keys = [tx.event.transactionId, tx.event.accountId, tx.event.cardId ?? '', new Date(tx.eventTimeMs).toISOString()].map(csvField);
      const fraud = labels.get(tx.event.transactionId);
      await writeLine(out, [...keys, ...values, fraud === undefined ? '' : fraud ? '1' : '0'].join(','));
    }
  });
  await Promise.all([closeStream(out), rejects.close()]);
  return { rows: lines.length, labels: labels.size, rejected: rejects.count(), rejectsPath: files.rejects };
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
