// Writing lines to a file with back-pressure, and closing it once everything is written.
import type { WriteStream } from 'node:fs';

/** A decision's line (its decision is built in full: PipelineDeps.decisions 'all'). */
export function decisionLine(d: { decision: unknown }): string {
  return JSON.stringify(d.decision);
}

export function writeLine(stream: WriteStream, line: string): Promise<void> {
  return stream.write(line + '\n') ? Promise.resolve() : new Promise((r) => stream.once('drain', () => r()));
}

export function writeBytes(stream: WriteStream, bytes: Buffer): Promise<void> {
  return stream.write(bytes) ? Promise.resolve() : new Promise((r) => stream.once('drain', () => r()));
}

/**
 * The lines, each followed by `\n`, encoded as UTF-8 straight into one buffer (joining them
 * first made a string as large, flattened and copied again before being encoded). With `line`,
 * each item's line is made as it is encoded and is garbage at once: the lines of a chunk are
 * never all held together (when they were, every young-generation collection that fell while
 * they were written copied them).
 */
export function linesBytes(lines: readonly string[]): Buffer;
export function linesBytes<T>(items: readonly T[], line: (item: T) => string): Buffer;
export function linesBytes<T>(items: readonly T[], line: (item: T) => string = String): Buffer {
  let buf = EMPTY;
  let used = 0;
  for (let i = 0; i < items.length; i++) {
    const text = line(items[i] as T);
    // Sized from the first line, with room to spare; grown (copied) when a chunk's lines are longer.
    if (i === 0) buf = Buffer.allocUnsafe(Math.ceil((text.length + 1) * items.length * 1.25) + 1024);
    // A UTF-16 unit takes up to 3 bytes: only near the end is the exact size worth counting.
    if (buf.length - used < text.length * 3 + 1) {
      const need = Buffer.byteLength(text) + 1;
      if (buf.length - used < need) {
        const grown = Buffer.allocUnsafe(Math.max(buf.length * 2, used + need));
        buf.copy(grown, 0, 0, used);
        buf = grown;
      }
    }
    used += buf.write(text, used);
    buf[used++] = NEWLINE;
  }
  return buf.subarray(0, used);
}

const EMPTY = Buffer.alloc(0);
const NEWLINE = 0x0a;

export function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
}
