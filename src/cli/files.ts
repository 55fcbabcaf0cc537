// JSON-lines input and output for the offline commands: every bad line is reported with its
// number and reason, never a crash.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { InvalidEventError } from '../contract/errors.js';
import { toLabelEvent, type LabelEvent } from '../contract/label.js';
import { toParsedTransaction, type ParsedTransaction } from '../contract/transaction.js';

export interface TransactionLine {
  lineNo: number;
  tx: ParsedTransaction;
}

export type LabelLine = LabelEvent;

export type RejectFn = (file: string, lineNo: number, error: InvalidEventError) => void;

export interface Rejects {
  reject: RejectFn;
  count: () => number;
  close: () => Promise<void>;
}

/** A rejects file: one JSON line per bad input line. */
export function rejectsWriter(path: string): Rejects {
  const stream = createWriteStream(path);
  let n = 0;
  return {
    reject: (file, lineNo, error) => {
      n++;
      stream.write(JSON.stringify({ file, line: lineNo, code: error.code, error: error.message }) + '\n');
    },
    count: () => n,
    close: () => closeStream(stream),
  };
}

/** Bad lines reported on stderr, the first five in full, for commands that write no rejects file. */
export function stderrRejects(): Rejects {
  let n = 0;
  return {
    reject: (file, lineNo, error) => {
      if (++n <= 5) console.error(`${file}:${lineNo}: ${error.code}: ${error.message}`);
    },
    count: () => n,
    close: () => Promise.resolve(),
  };
}

export async function readTransactions(file: string, reject: RejectFn): Promise<TransactionLine[]> {
  const out: TransactionLine[] = [];
  await eachLine(file, reject, (data, lineNo) => out.push({ lineNo, tx: toParsedTransaction(data) }));
  return out;
}

export async function readLabels(file: string, reject: RejectFn): Promise<LabelLine[]> {
  const out: LabelLine[] = [];
  await eachLine(file, reject, (data) => {
    out.push(toLabelEvent(data));
  });
  return out;
}

async function eachLine(file: string, reject: RejectFn, fn: (data: unknown, lineNo: number) => void): Promise<void> {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const text of rl) {
    lineNo++;
    if (text.trim() === '') continue;
    try {
      fn(parseJson(text), lineNo);
    } catch (err) {
      if (!(err instanceof InvalidEventError)) throw err;
      reject(file, lineNo, err);
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidEventError('FD_EVENT_NOT_JSON', `not valid JSON: ${(err as Error).message}`);
  }
}

export function writeLine(stream: WriteStream, line: string): Promise<void> {
  return stream.write(line + '\n') ? Promise.resolve() : new Promise((r) => stream.once('drain', () => r()));
}

export function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

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
