// Ranking metrics for fraud scores, computed as scikit-learn computes them (so the training
// card and `fraud-detector evaluate` agree): AUC ROC (trapezoids over the distinct scores),
// average precision (precision at each distinct score, weighted by the recall it adds), and
// card precision@k as the fraud-detection handbook of Le Borgne et al. defines it.

export interface Scored {
  score: number;
  fraud: boolean;
}

/** Points of the ranking at each distinct score, highest first: cumulative frauds and flagged. */
function steps(rows: readonly Scored[]): { tp: number[]; fp: number[] } {
  const sorted = [...rows].sort((a, b) => b.score - a.score);
  const tp: number[] = [];
  const fp: number[] = [];
  let t = 0;
  let f = 0;
  sorted.forEach((r, i) => {
    if (r.fraud) t++;
    else f++;
    if (i === sorted.length - 1 || (sorted[i + 1] as Scored).score !== r.score) {
      tp.push(t);
      fp.push(f);
    }
  });
  return { tp, fp };
}

/** Area under the ROC curve; null unless both classes are present. */
export function aucRoc(rows: readonly Scored[]): number | null {
  const { tp, fp } = steps(rows);
  const positives = tp.at(-1) ?? 0;
  const negatives = fp.at(-1) ?? 0;
  if (positives === 0 || negatives === 0) return null;
  let area = 0;
  let prevTpr = 0;
  let prevFpr = 0;
  for (let i = 0; i < tp.length; i++) {
    const tpr = (tp[i] as number) / positives;
    const fpr = (fp[i] as number) / negatives;
    area += ((fpr - prevFpr) * (tpr + prevTpr)) / 2;
    prevTpr = tpr;
    prevFpr = fpr;
  }
  return area;
}

/** Average precision: Σ (recall_n − recall_n−1) × precision_n over the distinct scores; null without frauds. */
export function averagePrecision(rows: readonly Scored[]): number | null {
  const { tp, fp } = steps(rows);
  const positives = tp.at(-1) ?? 0;
  if (positives === 0) return null;
  let ap = 0;
  let prevRecall = 0;
  for (let i = 0; i < tp.length; i++) {
    const recall = (tp[i] as number) / positives;
    ap += (recall - prevRecall) * ((tp[i] as number) / ((tp[i] as number) + (fp[i] as number)));
    prevRecall = recall;
  }
  return ap;
}

export interface CardScored extends Scored {
  card: string;
  timeMs: number;
}

/**
 * Card precision@k: each day, the k cards with the highest score that day (cards caught on an
 * earlier day left out: they are blocked); the share of them with a fraud that day, averaged
 * over the days. Null with no rows.
 */
export function cardPrecisionAtK(rows: readonly CardScored[], k = 100): number | null {
  const days = new Map<number, CardScored[]>();
  for (const r of rows) {
    const day = Math.floor(r.timeMs / 86_400_000);
    const list = days.get(day) ?? [];
    list.push(r);
    days.set(day, list);
  }
  const caught = new Set<string>();
  const precisions: number[] = [];
  for (const day of [...days.keys()].sort((a, b) => a - b)) {
    const best = new Map<string, { score: number; fraud: boolean }>();
    for (const r of days.get(day) as CardScored[]) {
      if (caught.has(r.card)) continue;
      const b = best.get(r.card);
      best.set(r.card, { score: Math.max(b?.score ?? -1, r.score), fraud: (b?.fraud ?? false) || r.fraud });
    }
    const top = [...best].sort((a, b) => b[1].score - a[1].score || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, k);
    precisions.push(top.filter(([, v]) => v.fraud).length / k);
    for (const [card, v] of top) if (v.fraud) caught.add(card);
  }
  return precisions.length > 0 ? precisions.reduce((a, b) => a + b, 0) / precisions.length : null;
}

export interface RankingMetrics {
  aucRoc: number | null;
  averagePrecision: number | null;
  cardPrecisionAt100: number | null;
}

export function rankingMetrics(rows: readonly CardScored[]): RankingMetrics {
  return { aucRoc: aucRoc(rows), averagePrecision: averagePrecision(rows), cardPrecisionAt100: cardPrecisionAtK(rows, 100) };
}
