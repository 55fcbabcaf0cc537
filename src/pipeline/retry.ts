// Retries an operation that failed for a reason worth retrying, with capped exponential backoff.
import { FraudDetectorError } from '../contract/errors.js';

export interface RetryOptions {
  maxBackoffMs: number;
  /** Called before each wait; `attempt` starts at 1. */
  onRetry?: (err: Error, attempt: number, waitMs: number) => void;
  /** Checked between attempts; when true the last error is thrown instead of waiting. */
  shouldStop?: () => boolean;
  isRetriable?: (err: unknown) => boolean;
}

export const isRetriable = (err: unknown): boolean => err instanceof FraudDetectorError && err.retriable;

export class RetryStoppedError extends Error {
  constructor(readonly last: unknown) {
    super(`stopped while retrying: ${last instanceof Error ? last.message : String(last)}`, { cause: last });
    this.name = 'RetryStoppedError';
  }
}

export async function withRetry<T>(op: () => Promise<T>, options: RetryOptions): Promise<T> {
  const retriable = options.isRetriable ?? isRetriable;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (!retriable(err)) throw err;
      if (options.shouldStop?.()) throw new RetryStoppedError(err);
      const waitMs = Math.min(options.maxBackoffMs, 50 * 2 ** Math.min(attempt, 20)) * (0.5 + Math.random() / 2);
      options.onRetry?.(err as Error, attempt, waitMs);
      await sleepUnless(waitMs, options.shouldStop);
    }
  }
}

async function sleepUnless(ms: number, stop?: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (stop?.()) return;
    await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
  }
}
