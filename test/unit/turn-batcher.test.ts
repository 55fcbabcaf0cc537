import { describe, expect, it } from 'vitest';
import { TurnBatcher } from '../../src/pipeline/turn-batcher.js';

describe('work handed over in one turn', () => {
  it('is done together at its end, each item getting its own result or error, in order', async () => {
    const runs: number[][] = [];
    const batcher = new TurnBatcher<number, number>((items) => {
      runs.push([...items]);
      return Promise.resolve(items.map((n): PromiseSettledResult<number> => (n < 0 ? { status: 'rejected', reason: new Error(`negative ${n}`) } : { status: 'fulfilled', value: n * 10 })));
    });
    const first = [batcher.submit(1), batcher.submit(-2), batcher.submit(3)];
    await expect(Promise.allSettled(first)).resolves.toEqual([
      { status: 'fulfilled', value: 10 },
      { status: 'rejected', reason: new Error('negative -2') },
      { status: 'fulfilled', value: 30 },
    ]);
    // A later turn is a run of its own.
    await expect(batcher.submit(4)).resolves.toBe(40);
    expect(runs).toEqual([[1, -2, 3], [4]]);
  });

  it('fails every item of the turn when the run itself fails', async () => {
    const batcher = new TurnBatcher<number, number>(() => Promise.reject(new Error('store down')));
    const results = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(results.map((r) => ((r as PromiseRejectedResult).reason as Error).message)).toEqual(['store down', 'store down']);
  });
});
