// The safety rail for a rule gone wild: a rule whose breaker is open runs as shadow (evaluated
// and counted, never deciding). It opens when, over a window of events, the rule hit more than
// its `maxHitRate` share of them, and closes after a window in which it hit no more than that
// (its hits keep being counted while it is open). Each worker judges its own traffic.

export type BreakerListener = (ruleId: string, open: boolean, hitRate: number) => void;

export class RuleBreaker {
  /** Hits in the current window, counted whether the rule decides or not. */
  hits = 0;
  open = false;

  constructor(
    readonly ruleId: string,
    readonly maxHitRate: number,
  ) {}

  /** Ends a window of `evaluated` events; returns the new state when it changed. */
  judge(evaluated: number): { open: boolean; hitRate: number } | null {
    const hitRate = evaluated > 0 ? this.hits / evaluated : 0;
    this.hits = 0;
    const open = hitRate > this.maxHitRate;
    if (open === this.open) return null;
    this.open = open;
    return { open, hitRate };
  }
}
