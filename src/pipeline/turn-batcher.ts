// Work handed over in one turn of the event loop, done together at its end. Batches of several
// partitions that arrive at once then share one store call and one model run: at a few events
// per batch, each call's fixed cost is most of what a batch costs, and the worker's thread was
// busy with such costs more than with events (bench/e2e.ts, its paced runs).
export class TurnBatcher<I, R> {
  private pending: { item: I; resolve: (result: R) => void; reject: (reason: unknown) => void }[] = [];

  /** `run` gets the turn's items in the order they came and settles each one's result, in that order. */
  constructor(private readonly run: (items: readonly I[]) => Promise<readonly PromiseSettledResult<R>[]>) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.pending.push({ item, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const taken = this.pending;
    this.pending = [];
    this.run(taken.map((t) => t.item)).then(
      (results) =>
        taken.forEach((t, i) => {
          const r = results[i];
          if (r === undefined) t.reject(new Error('no result for an item of the turn'));
          else if (r.status === 'fulfilled') t.resolve(r.value);
          else t.reject(r.reason);
        }),
      (err: unknown) => {
        for (const t of taken) t.reject(err);
      },
    );
  }
}
