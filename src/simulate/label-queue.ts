// Labels waiting for the time they become known, as a binary min-heap on that time: the live
// simulator holds rate × delay of them (a million at 20,000 events/s and a minute's delay).

export interface PendingLabel {
  at: number;
  key: string;
  value: string;
}

export class LabelQueue {
  private readonly heap: PendingLabel[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(label: PendingLabel): void {
    const h = this.heap;
    h.push(label);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as PendingLabel).at <= label.at) break;
      h[i] = h[parent] as PendingLabel;
      i = parent;
    }
    h[i] = label;
  }

  /** Removes and returns every label known by `nowMs`, earliest first. */
  due(nowMs: number): PendingLabel[] {
    const out: PendingLabel[] = [];
    while (this.heap.length > 0 && (this.heap[0] as PendingLabel).at <= nowMs) out.push(this.pop());
    return out;
  }

  private pop(): PendingLabel {
    const h = this.heap;
    const top = h[0] as PendingLabel;
    const last = h.pop() as PendingLabel;
    if (h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && (h[r] as PendingLabel).at < (h[l] as PendingLabel).at ? r : l;
      if ((h[c] as PendingLabel).at >= last.at) break;
      h[i] = h[c] as PendingLabel;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
