// `fraud-detector simulate --handbook`: the handbook's simulated history (simulate/handbook.ts)
// written as our contract's JSON lines, a day at a time: transactions in event-time order and,
// since every label is known the same delay after its transaction, labels in the same order.
import { createWriteStream, type WriteStream } from 'node:fs';
import { closeStream } from '../offline/output-lines.js';
import { handbookDays, handbookLabel, type HandbookOptions } from '../simulate/handbook.js';

export interface HandbookFiles {
  transactions: string;
  labels?: string;
}

export interface HandbookSummary {
  transactions: number;
  frauds: number;
  /** Frauds per scenario (the last one applied), index 1 to 3. */
  byScenario: [number, number, number, number];
  days: number;
}

export async function writeHandbookFiles(options: HandbookOptions, files: HandbookFiles): Promise<HandbookSummary> {
  const tx = createWriteStream(files.transactions);
  const labels = files.labels !== undefined ? createWriteStream(files.labels) : null;
  const summary: HandbookSummary = { transactions: 0, frauds: 0, byScenario: [0, 0, 0, 0], days: 0 };
  for (const day of handbookDays(options)) {
    summary.days++;
    summary.transactions += day.length;
    for (const t of day) summary.byScenario[t.scenario]++;
    if (day.length === 0) continue;
    await writeChunk(tx, day.map((t) => JSON.stringify(t.event)));
    if (labels) await writeChunk(labels, day.map((t) => JSON.stringify(handbookLabel(t, options.labelDelayMs))));
  }
  summary.frauds = summary.byScenario[1] + summary.byScenario[2] + summary.byScenario[3];
  await closeStream(tx);
  if (labels) await closeStream(labels);
  return summary;
}

export function formatHandbookSummary(s: HandbookSummary, files: HandbookFiles): string {
  const share = s.transactions > 0 ? ((100 * s.frauds) / s.transactions).toFixed(3) : '0';
  return (
    `wrote ${s.transactions} transactions over ${s.days} days (${s.frauds} fraud, ${share}%: ${s.byScenario[1]} by amount, ` +
    `${s.byScenario[2]} at compromised terminals, ${s.byScenario[3]} by compromised customers) to ${files.transactions}` +
    (files.labels !== undefined ? ` and ${s.transactions} labels to ${files.labels}` : '')
  );
}

/** One day's lines in one write, waiting for the file when its buffer is full. */
function writeChunk(stream: WriteStream, lines: string[]): Promise<void> {
  return stream.write(lines.join('\n') + '\n') ? Promise.resolve() : new Promise((r) => stream.once('drain', () => r()));
}
