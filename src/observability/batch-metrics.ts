// What a decided batch adds to the metrics: time per stage, outcomes, scores, latency, rule
// hits, late, duplicate and redelivered events, dead letters.
import type { Decided } from '../pipeline/process-batch.js';
import type { Metrics } from './metrics.js';

export function recordStages(metrics: Metrics, timings: { features: number; score: number; rules: number }): void {
  metrics.stageSeconds.observe({ stage: 'features' }, timings.features);
  metrics.stageSeconds.observe({ stage: 'score' }, timings.score);
  metrics.stageSeconds.observe({ stage: 'rules' }, timings.rules);
}

export function recordOutcomes(metrics: Metrics, decided: readonly Decided[], dlqCodes: readonly string[], now = Date.now()): void {
  const counts = { allow: 0, review: 0, block: 0 };
  const champion = metrics.modelScores.labels('champion');
  const challenger = metrics.modelScores.labels('challenger');
  let redelivered = 0;
  for (const d of decided) {
    counts[d.outcome]++;
    metrics.scores.observe(d.score);
    champion.observe(d.modelScore);
    if (d.challengerScore !== null) challenger.observe(d.challengerScore);
    // A redelivered decision's latency is its first decision's, already observed.
    if (!d.replayed) metrics.endToEndSeconds.observe(Math.max(0, now - d.eventTimeMs) / 1000);
    if (d.tooLate) metrics.lateEvents.inc();
    if (d.future) metrics.futureEvents.inc();
    if (d.duplicate) metrics.duplicateEvents.inc();
    if (d.replayed) redelivered++;
    for (const h of d.ruleHits) metrics.ruleHits.inc({ rule: h.id, mode: 'active' });
    for (const id of d.shadowHits) metrics.ruleHits.inc({ rule: id, mode: 'shadow' });
    for (const e of d.ruleErrors) metrics.ruleErrors.inc({ rule: e.id });
  }
  for (const [outcome, n] of Object.entries(counts)) if (n > 0) metrics.events.inc({ outcome }, n);
  if (redelivered > 0) metrics.redeliveredEvents.inc(redelivered);
  if (dlqCodes.length > 0) metrics.events.inc({ outcome: 'dead_letter' }, dlqCodes.length);
  for (const code of dlqCodes) metrics.deadLetters.inc({ code });
}
