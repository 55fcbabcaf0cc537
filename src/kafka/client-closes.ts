// The Kafka clients' closes still in flight. A process must not call process.exit() during one:
// librdkafka closes a consumer on one of libuv's pool threads, and in a rebalance that close
// waits for the rebalance callback, which only the main thread serves. process.exit() stops the
// main thread and then joins the pool's threads, so it would wait for that close forever.
// A worker whose close does not finish in its time ends by SIGKILL instead (exitProcess).
import { flushLogSync, type Logger } from '../observability/logger.js';
import { within } from '../pipeline/within.js';

export class ClientCloses {
  private readonly inFlight = new Map<Promise<void>, string>();

  /** Records `client`'s close until it settles; returns it (settled either way: a failed close is over too). */
  track(client: string, close: Promise<unknown>): Promise<void> {
    const settled = close.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.set(settled, client);
    void settled.then(() => this.inFlight.delete(settled));
    return settled;
  }

  /** The clients whose close has started and not finished. */
  pending(): string[] {
    return [...this.inFlight.values()];
  }

  /** Waits up to `ms` for every close in flight; resolves with the clients still closing then. */
  async settled(ms: number): Promise<string[]> {
    await within(Promise.all(this.inFlight.keys()), ms);
    return this.pending();
  }
}

/**
 * Ends the process with `code`; by SIGKILL instead while a Kafka client still closes
 * (`closing`), since process.exit() would then wait forever.
 */
export function exitProcess(code: number, closing: readonly string[], logger: Logger): void {
  if (closing.length === 0) process.exit(code);
  logger.error({ clients: closing, code }, 'Kafka clients are still closing (a rebalance holds them) and exiting would wait for them forever; ending by SIGKILL');
  flushLogSync(logger);
  process.kill(process.pid, 'SIGKILL');
}
