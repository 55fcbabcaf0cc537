// A naive model of what a store must answer, for checking the ring-buffer algorithm: it keeps
// every applied event of an entity and recomputes each window from scratch, by definition.
//   - too late: older than the latest in-order event minus the lateness; read, not applied;
//   - duplicate: the same transactionId at the same dedupe bucket was applied before;
//   - a window as of an event at bucket b holds the applied events (passing its filter) in
//     buckets [b - n + 1, b], plus the event itself when too late but passing.
import type { EntityEvent, WindowAggregate } from '../../src/features/store.js';
import { dedupeSpec, type WindowSpec } from '../../src/features/windows.js';

export interface ReferenceObservation {
  duplicate: boolean;
  tooLate: boolean;
  previousTimeMs: number | null;
  /** Read older than the lateness (too late, or a read-only event): its buckets may have left the ring. */
  bestEffort: boolean;
  windows: WindowAggregate[];
}

export class ReferenceEntity {
  private readonly applied: EntityEvent[] = [];
  private last = NaN;

  constructor(
    private readonly windows: readonly WindowSpec[],
    private readonly allowedLatenessMs: number,
  ) {}

  observe(event: EntityEvent): ReferenceObservation {
    const readOnly = event.readOnly === true;
    const old = !Number.isNaN(this.last) && event.eventTimeMs < this.last - this.allowedLatenessMs;
    const tooLate = !readOnly && old;
    const dedupeMs = dedupeSpec(this.allowedLatenessMs).bucketMs;
    const sameBucket = (e: EntityEvent): boolean => Math.floor(e.eventTimeMs / dedupeMs) === Math.floor(event.eventTimeMs / dedupeMs);
    const duplicate = !readOnly && !tooLate && this.applied.some((e) => e.transactionId === event.transactionId && sameBucket(e));
    const apply = !readOnly && !tooLate && !duplicate;
    const inOrder = Number.isNaN(this.last) || event.eventTimeMs >= this.last;
    const previousTimeMs = (apply || readOnly) && inOrder && !Number.isNaN(this.last) ? this.last : null;
    if (apply) {
      this.applied.push(event);
      if (inOrder) this.last = event.eventTimeMs;
    }
    return { duplicate, tooLate, previousTimeMs, bestEffort: old, windows: this.windows.map((w) => this.window(w, event, tooLate)) };
  }

  private window(w: WindowSpec, event: EntityEvent, tooLate: boolean): WindowAggregate {
    const passes = (e: EntityEvent): boolean => w.filter === undefined || ((e.mask ?? 0) & w.filter.bit) !== 0;
    const b = Math.floor(event.eventTimeMs / w.bucketMs);
    const inWindow = this.applied.filter((e) => passes(e) && Math.floor(e.eventTimeMs / w.bucketMs) > b - w.buckets && Math.floor(e.eventTimeMs / w.bucketMs) <= b);
    if (tooLate && passes(event)) inWindow.push(event);
    const amounts = inWindow.map((e) => e.amount);
    const out: WindowAggregate = { count: amounts.length, sum: amounts.reduce((a, x) => a + x, 0), sumSq: amounts.reduce((a, x) => a + x * x, 0) };
    if (w.extremes === true) {
      out.min = amounts.length > 0 ? Math.min(...amounts) : NaN;
      out.max = amounts.length > 0 ? Math.max(...amounts) : NaN;
    }
    if (w.distinct !== undefined) {
      out.distinct = w.distinct.map((d) => {
        const values = new Set(inWindow.map((e) => e.distinct?.[d.field] ?? NaN).filter((v) => !Number.isNaN(v)));
        return Math.min(values.size, d.limit);
      });
    }
    return out;
  }
}
