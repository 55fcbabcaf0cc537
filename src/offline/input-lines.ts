// JSON-lines input for the offline commands, read as bytes and put through the contract's one
// validation (contract/decode.ts), exactly as `run` validates a Kafka message: a line `run`
// would dead-letter is a rejection here with the same code, never a crash.
import { createReadStream } from 'node:fs';
import type { EventLimits } from '../contract/decode.js';
import { tooLarge } from '../contract/decode.js';
import { InvalidEventError } from '../contract/errors.js';
import { parseLabel, type LabelEvent } from '../contract/label.js';
import { parseTransaction, type ParsedTransaction } from '../contract/transaction.js';
import type { RejectFn } from './rejects.js';

export interface TransactionLine {
  lineNo: number;
  tx: ParsedTransaction;
}

export type LabelLine = LabelEvent;

/** One line's bytes (without its `\n` or `\r\n`); null for a line over the limit, which is counted, not held. */
export interface InputLine {
  lineNo: number;
  value: Buffer | null;
  bytes: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * The file's lines as bytes: a line ends at `\n` (a `\r` before it is dropped), and an empty
 * line is a line (an empty event). Bytes are not decoded here, so invalid UTF-8 reaches the
 * validation as it is instead of as U+FFFD.
 */
export async function* readLines(file: string, maxBytes: number): AsyncGenerator<InputLine> {
  const line = new LineBuffer(maxBytes);
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      line.hold(chunk.subarray(start, nl));
      yield line.take();
      start = nl + 1;
    }
    line.hold(chunk.subarray(start));
  }
  if (line.size > 0) yield line.take(); // a last line without its newline
}

/** The bytes of the line being read, up to the limit (plus a `\r`); beyond it only their count. */
class LineBuffer {
  private parts: Buffer[] = [];
  size = 0;
  private lastByte = -1;
  private lineNo = 0;

  constructor(private readonly maxBytes: number) {}

  hold(piece: Buffer): void {
    if (piece.length === 0) return;
    this.size += piece.length;
    this.lastByte = piece[piece.length - 1] as number;
    if (this.size <= this.maxBytes + 1) this.parts.push(piece);
    else this.parts = [];
  }

  take(): InputLine {
    const cr = this.lastByte === CARRIAGE_RETURN ? 1 : 0;
    const bytes = this.size - cr;
    const held = this.size <= this.maxBytes + 1;
    const line = { lineNo: ++this.lineNo, value: held ? Buffer.concat(this.parts).subarray(0, bytes) : null, bytes };
    this.parts = [];
    this.size = 0;
    this.lastByte = -1;
    return line;
  }
}

/** Each line through `parse`; a line it refuses goes to `reject` with its number and code. */
async function eachValid<V>(file: string, limits: EventLimits, reject: RejectFn, parse: (value: Buffer) => V, keep: (value: V, lineNo: number) => void): Promise<void> {
  for await (const line of readLines(file, limits.maxBytes)) {
    try {
      if (line.value === null) throw tooLarge(line.bytes, limits.maxBytes);
      keep(parse(line.value), line.lineNo);
    } catch (err) {
      if (!(err instanceof InvalidEventError)) throw err;
      reject(file, line.lineNo, err);
    }
  }
}

/** The file's valid transactions as they are read (refused lines go to `reject`). */
export async function* streamTransactions(file: string, limits: EventLimits, reject: RejectFn): AsyncGenerator<TransactionLine> {
  for await (const line of readLines(file, limits.maxBytes)) {
    try {
      if (line.value === null) throw tooLarge(line.bytes, limits.maxBytes);
      yield { lineNo: line.lineNo, tx: parseTransaction(line.value, limits) };
    } catch (err) {
      if (!(err instanceof InvalidEventError)) throw err;
      reject(file, line.lineNo, err);
    }
  }
}

export async function readTransactions(file: string, limits: EventLimits, reject: RejectFn): Promise<TransactionLine[]> {
  const out: TransactionLine[] = [];
  await eachValid(file, limits, reject, (value) => parseTransaction(value, limits), (tx, lineNo) => out.push({ lineNo, tx }));
  return out;
}

export async function readLabels(file: string, limits: EventLimits, reject: RejectFn): Promise<LabelLine[]> {
  const out: LabelLine[] = [];
  await eachValid(file, limits, reject, (value) => parseLabel(value, limits), (label) => out.push(label));
  return out;
}
