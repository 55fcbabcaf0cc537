// The structured JSON logger. Log lines carry codes and counts, never card numbers, IPs or raw events.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'fraud-detector'): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}

/**
 * Writes out what the logger still buffers, synchronously: before the process ends by a
 * signal, which would drop it (the default destination writes asynchronously).
 */
export function flushLogSync(logger: Logger): void {
  const stream = (logger as unknown as Record<symbol, { flushSync?: () => void } | undefined>)[pino.symbols.streamSym];
  try {
    stream?.flushSync?.();
  } catch {
    // nothing more can be done for a log that cannot be written
  }
}
