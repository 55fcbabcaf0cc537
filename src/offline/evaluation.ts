// A labelled period replayed offline through the features, the model and the rules: ranking
// metrics for the model alone, the rules alone, both together as the detector decides, and
// each rule on its own. Shared by `evaluate` and by `train`, which records it in the card.
import type { DecisionOutcome } from '../contract/decision.js';
import { rankingMetrics, averagePrecision, type CardScored, type RankingMetrics } from '../models/metrics.js';
import type { PipelineDeps } from '../pipeline/process-batch.js';
import { latestLabels } from './history.js';
import type { LabelLine, TransactionLine } from './input-lines.js';
import { replayDecisions } from './timeline.js';

export interface EvaluationReport {
  from: string;
  until: string;
  transactions: number;
  frauds: number;
  modelVersion: string;
  rulesVersion: string;
  model: RankingMetrics;
  rules: RankingMetrics;
  both: RankingMetrics;
  /** Each rule (active or shadow) as a scorer of its own: 1 on a hit, else 0. */
  perRule: { id: string; averagePrecision: number | null }[];
  bestRule: { id: string; averagePrecision: number } | null;
}

const SEVERITY: Record<DecisionOutcome, number> = { allow: 0, review: 1, block: 2 };

/**
 * `deps`: the pipeline over a fresh in-memory store, with the rules to measure (breakers off).
 * `transactions` in event-time order: the whole history, though only the period is measured.
 */
export async function evaluatePeriod(deps: PipelineDeps, history: { transactions: readonly TransactionLine[]; labels: readonly LabelLine[] }, period: { fromMs: number; untilMs: number }): Promise<EvaluationReport> {
  const rules = deps.rules();
  const truth = latestLabels(history.labels);
  const model: CardScored[] = [];
  const byRules: CardScored[] = [];
  const both: CardScored[] = [];
  const hits = new Map(rules.rules.map((r) => [r.id, [] as CardScored[]]));
  await replayDecisions(deps, history.transactions, history.labels, (d, { tx }) => {
    if (tx.eventTimeMs < period.fromMs || tx.eventTimeMs >= period.untilMs) return;
    const base = { card: tx.event.cardId ?? tx.event.accountId, timeMs: tx.eventTimeMs, fraud: truth.get(tx.event.transactionId) === true };
    model.push({ ...base, score: d.modelScore });
    byRules.push({ ...base, score: d.rulesOutcome === null ? 0 : SEVERITY[d.rulesOutcome] });
    // As the detector ranks: by its decision, then by the model's score.
    both.push({ ...base, score: SEVERITY[d.outcome] + d.modelScore });
    const hit = new Set([...d.ruleHits.map((h) => h.id), ...d.shadowHits]);
    for (const [id, list] of hits) list.push({ ...base, score: hit.has(id) ? 1 : 0 });
  });
  const perRule = [...hits].map(([id, list]) => ({ id, averagePrecision: averagePrecision(list) }));
  const best = perRule.filter((r): r is { id: string; averagePrecision: number } => r.averagePrecision !== null).sort((a, b) => b.averagePrecision - a.averagePrecision)[0];
  return {
    from: new Date(period.fromMs).toISOString(),
    until: new Date(period.untilMs).toISOString(),
    transactions: model.length,
    frauds: model.filter((r) => r.fraud).length,
    modelVersion: deps.scorer.version,
    rulesVersion: rules.version,
    model: rankingMetrics(model),
    rules: rankingMetrics(byRules),
    both: rankingMetrics(both),
    perRule,
    bestRule: best ?? null,
  };
}

/** The report as a table. */
export function formatEvaluation(r: EvaluationReport): string {
  const n = (x: number | null): string => (x === null ? '-' : x.toFixed(3));
  const row = (label: string, m: RankingMetrics): string => `${label.padEnd(34)}${n(m.aucRoc).padStart(8)}${n(m.averagePrecision).padStart(20)}${n(m.cardPrecisionAt100).padStart(21)}`;
  return [
    `${r.from} → ${r.until}: ${r.transactions} transactions, ${r.frauds} fraud (model ${r.modelVersion}, rules ${r.rulesVersion})`,
    `${''.padEnd(34)}${'AUC ROC'.padStart(8)}${'average precision'.padStart(20)}${'card precision@100'.padStart(21)}`,
    row('model alone', r.model),
    row('rules alone', r.rules),
    row('both (as the detector decides)', r.both),
    `best single rule: ${r.bestRule ? `${r.bestRule.id}, average precision ${n(r.bestRule.averagePrecision)}` : '-'}`,
  ].join('\n');
}
