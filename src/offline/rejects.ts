// Where the offline commands report the input lines they refused: a rejects file (one JSON
// line each: file, line number, code, reason) or the first few on stderr.
import { createWriteStream } from 'node:fs';
import type { InvalidEventError } from '../contract/errors.js';
import { closeStream } from './output-lines.js';

export type RejectFn = (file: string, lineNo: number, error: InvalidEventError) => void;

export interface Rejects {
  reject: RejectFn;
  count: () => number;
  /** Refusals per code. */
  byCode: () => Map<string, number>;
  close: () => Promise<void>;
}

function tally(): { note: (error: InvalidEventError) => number; count: () => number; byCode: () => Map<string, number> } {
  const codes = new Map<string, number>();
  let n = 0;
  return {
    note: (error) => {
      codes.set(error.code, (codes.get(error.code) ?? 0) + 1);
      return ++n;
    },
    count: () => n,
    byCode: () => new Map(codes),
  };
}

/** A rejects file: one JSON line per bad input line. */
export function rejectsWriter(path: string): Rejects {
  const stream = createWriteStream(path);
  const t = tally();
  return {
    reject: (file, lineNo, error) => {
      t.note(error);
      stream.write(JSON.stringify({ file, line: lineNo, code: error.code, error: error.message }) + '\n');
    },
    count: t.count,
    byCode: t.byCode,
    close: () => closeStream(stream),
  };
}

/** Bad lines reported on stderr, the first five in full, for commands that write no rejects file. */
export function stderrRejects(): Rejects {
  const t = tally();
  return {
    reject: (file, lineNo, error) => {
      if (t.note(error) <= 5) console.error(`${file}:${lineNo}: ${error.code}: ${error.message}`);
    },
    count: t.count,
    byCode: t.byCode,
    close: () => Promise.resolve(),
  };
}
