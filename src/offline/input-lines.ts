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
  /** The line's bytes, when it was read from a file (replay decides it again on another thread from them). */
  raw?: Buffer;
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
  for await (const lines of readLineBatches(file, maxBytes)) yield* lines;
}

/**
 * The file's lines as readLines reads them, the lines that end in each piece read from the
 * file together: one await per piece rather than per line (each level of async generator
 * between the file and the pipeline cost about 0.2 µs per line).
 */
export async function* readLineBatches(file: string, maxBytes: number): AsyncGenerator<InputLine[]> {
  const line = new LineBuffer(maxBytes);
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    const lines: InputLine[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      line.hold(chunk.subarray(start, nl));
      lines.push(line.take());
      start = nl + 1;
    }
    line.hold(chunk.subarray(start));
    if (lines.length > 0) yield lines;
  }
  if (line.size > 0) yield [line.take()]; // a last line without its newline
}

/**
 * The bytes of the line being read, up to the limit (plus a `\r`); beyond it only their count.
 * A line read in one piece (most are) is a view of the piece read from the file, not a copy.
 */
class LineBuffer {
  /** The first piece, and the later ones when the line spans reads. */
  private first: Buffer | null = null;
  private rest: Buffer[] = [];
  size = 0;
  private lastByte = -1;
  private lineNo = 0;

  constructor(private readonly maxBytes: number) {}

  hold(piece: Buffer): void {
    if (piece.length === 0) return;
    this.size += piece.length;
    this.lastByte = piece[piece.length - 1] as number;
    if (this.size > this.maxBytes + 1) {
      this.first = null;
      this.rest = [];
    } else if (this.first === null) this.first = piece;
    else this.rest.push(piece);
  }

  take(): InputLine {
    const cr = this.lastByte === CARRIAGE_RETURN ? 1 : 0;
    const bytes = this.size - cr;
    const held = this.size <= this.maxBytes + 1;
    const line = { lineNo: ++this.lineNo, value: held ? this.bytes(bytes) : null, bytes };
    this.first = null;
    if (this.rest.length > 0) this.rest = [];
    this.size = 0;
    this.lastByte = -1;
    return line;
  }

  /** The line's first `bytes` bytes (an empty line is an empty buffer). */
  private bytes(bytes: number): Buffer {
    const first = this.first;
    if (first === null) return EMPTY;
    if (this.rest.length === 0) return bytes === first.length ? first : first.subarray(0, bytes);
    return Buffer.concat([first, ...this.rest]).subarray(0, bytes);
  }
}

const EMPTY = Buffer.alloc(0);

/** A valid line: its number, its value as parsed and its bytes. */
export interface ValidLine<V> {
  lineNo: number;
  value: V;
  raw: Buffer;
}

/** Each line through `parse`, as it is read; a line it refuses goes to `reject` with its number and code. */
export async function* streamValid<V>(file: string, limits: EventLimits, reject: RejectFn, parse: (value: Buffer) => V): AsyncGenerator<ValidLine<V>> {
  for await (const lines of readLineBatches(file, limits.maxBytes)) {
    for (const line of lines) {
      const value = validValue(file, line, limits, reject, parse);
      if (value !== REFUSED) yield { lineNo: line.lineNo, value, raw: line.value as Buffer };
    }
  }
}

const REFUSED: unique symbol = Symbol('refused');

/** The line's value through `parse`; REFUSED, once the line is given to `reject` with its code, when it is refused. */
function validValue<V>(file: string, line: InputLine, limits: EventLimits, reject: RejectFn, parse: (value: Buffer) => V): V | typeof REFUSED {
  try {
    if (line.value === null) throw tooLarge(line.bytes, limits.maxBytes);
    return parse(line.value);
  } catch (err) {
    if (!(err instanceof InvalidEventError)) throw err;
    reject(file, line.lineNo, err);
    return REFUSED;
  }
}

/** The file's valid transactions as they are read (refused lines go to `reject`); as streamValid, one generator fewer per line. */
export async function* streamTransactions(file: string, limits: EventLimits, reject: RejectFn): AsyncGenerator<TransactionLine> {
  const parse = (value: Buffer): ParsedTransaction => parseTransaction(value, limits);
  for await (const lines of readLineBatches(file, limits.maxBytes)) {
    for (const line of lines) {
      const tx = validValue(file, line, limits, reject, parse);
      if (tx !== REFUSED) yield { lineNo: line.lineNo, tx, raw: line.value as Buffer };
    }
  }
}

/** The file's valid labels as they are read (refused lines go to `reject`). */
export async function* streamLabels(file: string, limits: EventLimits, reject: RejectFn): AsyncGenerator<LabelLine> {
  for await (const line of streamValid(file, limits, reject, (value) => parseLabel(value, limits))) yield line.value;
}

async function collect<V>(lines: AsyncIterable<V>): Promise<V[]> {
  const out: V[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

export function readTransactions(file: string, limits: EventLimits, reject: RejectFn): Promise<TransactionLine[]> {
  return collect(streamTransactions(file, limits, reject));
}

export function readLabels(file: string, limits: EventLimits, reject: RejectFn): Promise<LabelLine[]> {
  return collect(streamLabels(file, limits, reject));
}
