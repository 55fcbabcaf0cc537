// The structured JSON logger. Log lines carry codes and counts, never card numbers, IPs or raw events.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'fraud-detector'): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
