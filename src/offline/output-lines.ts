// Writing lines to a file with back-pressure, and closing it once everything is written.
import type { WriteStream } from 'node:fs';

export function writeLine(stream: WriteStream, line: string): Promise<void> {
  return stream.write(line + '\n') ? Promise.resolve() : new Promise((r) => stream.once('drain', () => r()));
}

export function writeBytes(stream: WriteStream, bytes: Buffer): Promise<void> {
  return stream.write(bytes) ? Promise.resolve() : new Promise((r) => stream.once('drain', () => r()));
}

/**
 * The lines, each followed by `\n`, encoded as UTF-8 straight into one buffer (joining them
 * first made a string as large, flattened and copied again before being encoded).
 */
export function linesBytes(lines: readonly string[]): Buffer {
  let chars = 0;
  for (const line of lines) chars += line.length + 1;
  let buf = Buffer.allocUnsafe(chars);
  let used = 0;
  for (const line of lines) {
    // A UTF-16 unit takes up to 3 bytes: only near the end is the exact size worth counting.
    if (buf.length - used < line.length * 3 + 1) {
      const need = Buffer.byteLength(line) + 1;
      if (buf.length - used < need) {
        const grown = Buffer.allocUnsafe(Math.max(buf.length * 2, used + need));
        buf.copy(grown, 0, 0, used);
        buf = grown;
      }
    }
    used += buf.write(line, used);
    buf[used++] = NEWLINE;
  }
  return buf.subarray(0, used);
}

const NEWLINE = 0x0a;

export function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
}
