// Writing lines to a file with back-pressure, and closing it once everything is written.
import type { WriteStream } from 'node:fs';

export function writeLine(stream: WriteStream, line: string): Promise<void> {
  return stream.write(line + '\n') ? Promise.resolve() : new Promise((r) => stream.once('drain', () => r()));
}

export function writeBytes(stream: WriteStream, bytes: Buffer): Promise<void> {
  return stream.write(bytes) ? Promise.resolve() : new Promise((r) => stream.once('drain', () => r()));
}

export function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
}
