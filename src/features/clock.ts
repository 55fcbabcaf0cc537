// How far ahead of "now" an event may move an entity's windows. An event dated past the bound
// (a wrong clock upstream, or a hostile one) would move its entities' windows forward, after
// which every normal event of theirs is too late and nothing is counted until the keys expire:
// such an event is decided on its entities' windows as of the bound and never applied.
import type { ParsedTransaction } from '../contract/transaction.js';

export interface FeatureClock {
  /**
   * Per event of a batch, in order: the latest event time it may move windows to. Called once
   * per batch, in stream order (a stream clock advances with the events it accepts).
   */
  bounds(events: readonly ParsedTransaction[]): Float64Array;
}

/** The worker's clock: now plus the allowed skew, for every event of a batch. */
export class WallClock implements FeatureClock {
  constructor(
    private readonly skewMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  bounds(events: readonly ParsedTransaction[]): Float64Array {
    return new Float64Array(events.length).fill(this.now() + this.skewMs);
  }
}

/**
 * The stream's own clock, for history (replay, features export, rebuild): the latest event time
 * accepted so far plus the allowed skew, so history replays the same way whenever it is
 * replayed. It never runs ahead of the wall clock's bound, so a far-future first event is
 * caught too.
 */
export class StreamClock implements FeatureClock {
  private latest = -Infinity;

  constructor(
    private readonly skewMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  bounds(events: readonly ParsedTransaction[]): Float64Array {
    const wall = this.now();
    const out = new Float64Array(events.length);
    events.forEach((tx, i) => {
      const b = Math.min(this.latest === -Infinity ? wall : this.latest, wall) + this.skewMs;
      out[i] = b;
      if (tx.eventTimeMs <= b && tx.eventTimeMs > this.latest) this.latest = tx.eventTimeMs;
    });
    return out;
  }
}
