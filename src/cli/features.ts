// `fraud-detector features export`: point-in-time training data. Replays history through
// the serving feature code and writes one row per transaction with its features as they
// were at that moment, plus its label.
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.js';
import type { FeatureSet } from '../features/definitions.js';
import { StreamClock } from '../features/clock.js';
import { applyLabels, computeFeatures } from '../features/engine.js';
import { registerRebuild } from './features-rebuild.js';
import { replayInTimeOrder } from './timeline.js';
import { featureSetFor, memoryStore } from './build.js';
import { byEventTime, closeStream, latestLabels, readLabels, readTransactions, rejectsWriter, writeLine } from './files.js';

interface ExportFlags {
  transactions: string;
  labels?: string;
  out: string;
  rejects?: string;
}

export const EXPORT_KEY_COLUMNS = ['transactionId', 'accountId', 'cardId', 'eventTime'] as const;

export function registerFeatures(program: Command): void {
  const features = program.command('features').description('work with features');
  registerRebuild(features);
  features
    .command('export')
    .description('write point-in-time features (as they were when each transaction happened) and labels as CSV')
    .requiredOption('--transactions <file>', 'transactions, one JSON object per line')
    .option('--labels <file>', 'labels, one JSON object per line; the latest label of a transaction is its label')
    .requiredOption('--out <file>', 'CSV: transactionId, accountId, cardId, eventTime, the features in model order, label (1 fraud, 0 legit, empty unknown)')
    .option('--rejects <file>', 'bad lines with their line number and reason (default: <out>.rejects.jsonl)')
    .action(async (flags: ExportFlags) => {
      const config = loadConfig();
      const set = featureSetFor(config);
      const result = await exportFeatures(config, set, { ...flags, rejects: flags.rejects ?? `${flags.out}.rejects.jsonl` });
      console.error(`exported ${result.rows} rows × ${set.names.length} features → ${flags.out}; ${result.labels} labels joined; ${result.rejected} bad lines → ${result.rejectsPath}`);
    });
}

export interface ExportResult {
  rows: number;
  labels: number;
  rejected: number;
  rejectsPath: string;
}

/** Writes the point-in-time features of a transactions file (and its labels) as CSV. */
export async function exportFeatures(config: Config, set: FeatureSet, files: { transactions: string; labels?: string; out: string; rejects: string }): Promise<ExportResult> {
  const rejects = rejectsWriter(files.rejects);
  const lines = byEventTime(await readTransactions(files.transactions, rejects.reject));
  const labelLines = files.labels ? await readLabels(files.labels, rejects.reject) : [];
  const labels = latestLabels(labelLines);
  const store = memoryStore(config);
  const clock = new StreamClock(config.MAX_FUTURE_SKEW_MS);
  const out = createWriteStream(files.out);
  await writeLine(out, [...EXPORT_KEY_COLUMNS, ...set.names, 'label'].join(','));
  await replayInTimeOrder(lines, labelLines, 1000, (due) => applyLabels(due, set, store), async (chunk) => {
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
