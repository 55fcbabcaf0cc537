// How far ahead of "now" an event may move an entity's windows. An event dated past the bound
// (a wrong clock upstream, or a hostile one) would move its entities' windows forward, after
// which every normal event of theirs is too late and nothing is counted until the keys expire:
// such an event is decided on its entities' windows as of the bound and never applied.
//
// History (replay, features export, features rebuild) is applied in event-time order, so each
// event is "now" at its own time and the stream's own clock never runs ahead of it: there the
// wall clock bounds only what is dated past the real now, and history replays the same way
// whenever it is replayed. (A clock that followed the latest event time held back every event
// after a quiet spell longer than the skew: gaps are normal in history.)
import type { ParsedTransaction } from '../contract/transaction.js';

export interface FeatureClock {
  /**
   * Per event of a batch, in order: the latest event time it may move windows to. Called once
   * per batch, in stream order.
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
