// Views of a history read from files: event-time order, each transaction's latest label, the span.
import type { LabelLine, TransactionLine } from './input-lines.js';

/** Event-time order (ties by line), the order in which history is replayed. */
export function byEventTime(lines: readonly TransactionLine[]): TransactionLine[] {
  return [...lines].sort((a, b) => a.tx.eventTimeMs - b.tx.eventTimeMs || a.lineNo - b.lineNo);
}

/** Per transaction, whether its latest label (the one known last) says fraud. */
export function latestLabels(labels: readonly LabelLine[]): Map<string, boolean> {
  const latest = new Map<string, { fraud: boolean; at: number }>();
  for (const l of labels) {
    const prev = latest.get(l.transactionId);
    if (!prev || l.knownAtMs >= prev.at) latest.set(l.transactionId, { fraud: l.fraud, at: l.knownAtMs });
  }
  return new Map([...latest].map(([id, l]) => [id, l.fraud]));
}

/** The first event time, and just after the last (Infinity, -Infinity with no lines). */
export function timeSpan(lines: readonly TransactionLine[]): { firstMs: number; endMs: number } {
  let firstMs = Infinity;
  let lastMs = -Infinity;
  for (const l of lines) {
    firstMs = Math.min(firstMs, l.tx.eventTimeMs);
    lastMs = Math.max(lastMs, l.tx.eventTimeMs);
  }
  return { firstMs, endMs: lastMs + 1 };
}
