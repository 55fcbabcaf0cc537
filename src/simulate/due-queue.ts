// The simulator's queued events (an episode's later payments), earliest first: a binary heap
// ordered by time, then by when each was queued, so equal times come out in queue order (as
// the stable sort it replaces gave them). Paced by a clock that runs faster than episodes
// unfold, thousands of events wait at once; sorting them all at every queued episode made
// each event cost more the longer the simulator ran (250 µs each by 300,000 events).
export interface Timed {
  eventTimeMs: number;
}

interface Entry<T> {
  item: T;
  at: number;
  seq: number;
}

export class DueQueue<T extends Timed> {
  private readonly heap: Entry<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(item: T): void {
    const heap = this.heap;
    heap.push({ item, at: item.eventTimeMs, seq: this.seq++ });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as Entry<T>, heap[parent] as Entry<T>)) break;
      [heap[i], heap[parent]] = [heap[parent] as Entry<T>, heap[i] as Entry<T>];
      i = parent;
    }
  }

  /** The earliest item, if it is due at `nowMs`, taken off the queue. */
  takeDue(nowMs: number): T | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined || top.at > nowMs) return undefined;
    const last = heap.pop() as Entry<T>;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l] as Entry<T>, heap[m] as Entry<T>)) m = l;
        if (r < heap.length && before(heap[r] as Entry<T>, heap[m] as Entry<T>)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m] as Entry<T>, heap[i] as Entry<T>];
        i = m;
      }
    }
    return top.item;
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
