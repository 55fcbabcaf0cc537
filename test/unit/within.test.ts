import { describe, expect, it } from 'vitest';
import { within } from '../../src/pipeline/within.js';

const after = (ms: number, fail = false): Promise<void> => new Promise((resolve, reject) => setTimeout(() => (fail ? reject(new Error('failed')) : resolve()), ms));

describe('within', () => {
  it('is true when the work settles in time, failed or not', async () => {
    expect(await within(after(5), 1000)).toBe(true);
    expect(await within(after(5, true), 1000)).toBe(true);
  });

  it('is false once the time is up, and leaves the work running', async () => {
    let done = false;
    const work = after(80).then(() => (done = true));
    expect(await within(work, 10)).toBe(false);
    expect(done).toBe(false);
    await work;
    expect(done).toBe(true);
  });

  it('a bound already past is checked at once', async () => {
    expect(await within(Promise.resolve(), -5)).toBe(true);
    expect(await within(after(50), -5)).toBe(false);
  });
});
