// Liveness: a worker that has work waiting and has made no progress for a while is stuck, and
// should be restarted, even though its process answers. Work waiting: a batch handed to the
// pipeline and not finished, or lag the consumer's statistics report. Progress: a batch
// finished (its outputs acknowledged). No work waiting is never stuck (an idle worker is fine).
export class ProgressWatch {
  private lastProgress: number;
  private lag = 0;
  private inFlight = 0;

  constructor(
    /** How long work may wait with no progress before the worker counts as stuck. */
    private readonly stallMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.lastProgress = now();
  }

  /** A batch was handed to the pipeline. */
  began(): void {
    if (this.inFlight === 0 && this.lag === 0) this.lastProgress = this.now(); // the wait starts now
    this.inFlight++;
  }

  /** A batch left the pipeline; `done` when it finished (its outputs acknowledged), not abandoned. */
  ended(done: boolean): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (done) this.lastProgress = this.now();
  }

  /** The consumer's lag from its statistics (records not yet committed). */
  lagIs(lag: number): void {
    if (lag > 0 && this.lag === 0 && this.inFlight === 0) this.lastProgress = this.now();
    this.lag = lag;
  }

  /** Milliseconds of waiting work with no progress; 0 when nothing waits. */
  stalledForMs(): number {
    return this.inFlight > 0 || this.lag > 0 ? this.now() - this.lastProgress : 0;
  }

  stuck(): boolean {
    return this.stalledForMs() > this.stallMs;
  }
}
