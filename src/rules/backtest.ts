// Backtest tallies: per rule (active and shadow alike), how often it hit on a labelled history
// and how well its hits match the labels: precision (the share of its hits that were fraud)
// and recall (the share of the frauds it hit). Unlabelled transactions count as not fraud.

export interface RuleTally {
  id: string;
  mode: 'active' | 'shadow';
  action: string;
  hits: number;
  /** Hits on transactions labelled fraud. */
  fraudHits: number;
}

export interface BacktestReport {
  transactions: number;
  labelled: number;
  frauds: number;
  rules: (RuleTally & { hitRate: number; precision: number | null; recall: number | null })[];
  /** The active rules together: transactions whose rules' verdict was review or block. */
  flagged: { hits: number; fraudHits: number; precision: number | null; recall: number | null };
}

export class BacktestTally {
  private readonly tallies = new Map<string, RuleTally>();
  private transactions = 0;
  private labelled = 0;
  private frauds = 0;
  private flagged = 0;
  private flaggedFrauds = 0;

  constructor(rules: readonly { id: string; mode: 'active' | 'shadow'; action: string }[]) {
    for (const r of rules) this.tallies.set(r.id, { id: r.id, mode: r.mode, action: r.action, hits: 0, fraudHits: 0 });
  }

  /** One decided transaction: the rules that hit it, whether the rules flagged it, and its label (undefined: none). */
  record(hitIds: readonly string[], flagged: boolean, fraud: boolean | undefined): void {
    this.transactions++;
    if (fraud !== undefined) this.labelled++;
    if (fraud === true) this.frauds++;
    for (const id of hitIds) {
      const t = this.tallies.get(id);
      if (t === undefined) continue;
      t.hits++;
      if (fraud === true) t.fraudHits++;
    }
    if (flagged) {
      this.flagged++;
      if (fraud === true) this.flaggedFrauds++;
    }
  }

  report(): BacktestReport {
    const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);
    return {
      transactions: this.transactions,
      labelled: this.labelled,
      frauds: this.frauds,
      rules: [...this.tallies.values()].map((t) => ({ ...t, hitRate: this.transactions > 0 ? t.hits / this.transactions : 0, precision: ratio(t.fraudHits, t.hits), recall: ratio(t.fraudHits, this.frauds) })),
      flagged: { hits: this.flagged, fraudHits: this.flaggedFrauds, precision: ratio(this.flaggedFrauds, this.flagged), recall: ratio(this.flaggedFrauds, this.frauds) },
    };
  }
}

/** The report as an aligned table, one rule a line. */
export function formatBacktest(report: BacktestReport): string {
  const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
  const rows = [
    ['rule', 'mode', 'action', 'hits', 'hit rate', 'fraud hits', 'precision', 'recall'],
    ...report.rules.map((r) => [r.id, r.mode, r.action, String(r.hits), pct(r.hitRate), String(r.fraudHits), pct(r.precision), pct(r.recall)]),
    ['(active rules: review or block)', '', '', String(report.flagged.hits), pct(report.transactions > 0 ? report.flagged.hits / report.transactions : 0), String(report.flagged.fraudHits), pct(report.flagged.precision), pct(report.flagged.recall)],
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] as string).length))) ?? [];
  const lines = rows.map((r) => r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c] as number) : cell.padStart(widths[c] as number))).join('  '));
  return [`${report.transactions} transactions, ${report.labelled} labelled, ${report.frauds} fraud`, ...lines].join('\n');
}
