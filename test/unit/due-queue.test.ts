// The simulator's queue of later events: earliest first, equal times in the order queued (as
// the stable sort it replaced), and nothing taken before it is due.
import { describe, expect, it } from 'vitest';
import { DueQueue } from '../../src/simulate/due-queue.js';

describe('due queue', () => {
  it('gives what is due earliest first, equal times in queue order, and nothing early', () => {
    const q = new DueQueue<{ eventTimeMs: number; name: string }>();
    for (const [t, name] of [[30, 'c1'], [10, 'a'], [30, 'c2'], [20, 'b'], [30, 'c3'], [5, 'z']] as const) q.push({ eventTimeMs: t, name });
    expect(q.takeDue(4)).toBeUndefined();
    const taken: string[] = [];
    for (let item = q.takeDue(25); item !== undefined; item = q.takeDue(25)) taken.push(item.name);
    expect(taken).toEqual(['z', 'a', 'b']);
    q.push({ eventTimeMs: 30, name: 'c4' });
    q.push({ eventTimeMs: 1, name: 'late-queued early' });
    for (let item = q.takeDue(100); item !== undefined; item = q.takeDue(100)) taken.push(item.name);
    expect(taken).toEqual(['z', 'a', 'b', 'late-queued early', 'c1', 'c2', 'c3', 'c4']);
    expect(q.size).toBe(0);
  });

  it('orders a large random queue as a stable sort by time does', () => {
    const q = new DueQueue<{ eventTimeMs: number; i: number }>();
    const items = Array.from({ length: 5000 }, (_, i) => ({ eventTimeMs: (i * 7919) % 97, i }));
    for (const item of items) q.push(item);
    const out: number[] = [];
    for (let item = q.takeDue(Infinity); item !== undefined; item = q.takeDue(Infinity)) out.push(item.i);
    expect(out).toEqual([...items].sort((a, b) => a.eventTimeMs - b.eventTimeMs).map((x) => x.i));
  });
});
