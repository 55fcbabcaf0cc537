// Liveness from progress: stuck only when work waits with nothing finished for the bound.
import { describe, expect, it } from 'vitest';
import { ProgressWatch } from '../../src/kafka/progress.js';

describe('ProgressWatch', () => {
  it('an idle worker is never stuck, however long it idles', () => {
    let t = 0;
    const w = new ProgressWatch(1000, () => t);
    t = 1_000_000;
    expect(w.stuck()).toBe(false);
    expect(w.stalledForMs()).toBe(0);
  });

  it('a batch in the pipeline with nothing finished is stuck past the bound, counted from when it began', () => {
    let t = 50_000;
    const w = new ProgressWatch(1000, () => t);
    w.began();
    t += 1000;
    expect(w.stuck()).toBe(false);
    t += 1;
    expect(w.stuck()).toBe(true);
    w.ended(true);
    expect(w.stuck()).toBe(false);
  });

  it('lag with no batch finished is stuck; a finished batch resets the wait; an abandoned one does not', () => {
    let t = 0;
    const w = new ProgressWatch(1000, () => t);
    t = 10_000;
    w.lagIs(5);
    t += 800;
    w.began();
    w.ended(false); // revoked meanwhile: not progress
    t += 300;
    expect(w.stuck()).toBe(true);
    w.began();
    w.ended(true);
    expect(w.stuck()).toBe(false);
    t += 1001;
    expect(w.stuck()).toBe(true); // still lagging, nothing finished since
    w.lagIs(0);
    expect(w.stuck()).toBe(false);
  });
});
