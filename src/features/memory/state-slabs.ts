// Memory for live entity states: large Float64Array slabs cut into state-sized regions, with a
// free list per size, so keeping a state costs no typed array of its own (an allocation and
// garbage per entity: 12% of a replay's time when each state had one).
const SLAB_DOUBLES = 1 << 20;

export interface Region {
  values: Float64Array;
  base: number;
}

export class StateSlabs {
  private slab = new Float64Array(0);
  private used = 0;
  private readonly free = new Map<number, Region[]>();

  /** A region of `size` doubles (its contents are the caller's to initialise). */
  take(size: number): Region {
    const reused = this.free.get(size)?.pop();
    if (reused !== undefined) return reused;
    if (this.used + size > this.slab.length) {
      this.slab = new Float64Array(Math.max(SLAB_DOUBLES, size));
      this.used = 0;
    }
    const region = { values: this.slab, base: this.used };
    this.used += size;
    return region;
  }

  /** Gives a region back for reuse. */
  release(region: Region, size: number): void {
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, (list = []));
    list.push(region);
  }
}
