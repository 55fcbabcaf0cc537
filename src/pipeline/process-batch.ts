// One batch through the detector: validate → features (one store call) → score (one model
// run) → rules → decide. Pure orchestration over ports; `run` and `replay` share it.
import type { Decision, DecisionOutcome, RuleHit } from '../contract/decision.js';
import { DECISION_SCHEMA_VERSION } from '../contract/decision.js';
import type { ParsedTransaction } from '../contract/transaction.js';
import type { FeatureClock } from '../features/clock.js';
import type { FeatureSet } from '../features/definitions.js';
import { computeFeatures, type BatchFeatures } from '../features/engine.js';
import type { JournalRecord, JournalTarget } from '../features/journal.js';
import type { FeatureStore } from '../features/store.js';
import { leaseOf, type Scorer } from '../models/scorer.js';
import type { RuleSet } from '../rules/rule-set.js';
import type { DecisionPolicy } from './decide.js';
import { decide } from './decide.js';
import { validateEach, type Rejected } from './validate.js';

export type { Rejected };

export interface PipelineDeps {
  features: FeatureSet;
  store: FeatureStore;
  scorer: Scorer;
  /** Scored in shadow beside the scorer: its score goes in the decision, it decides nothing. */
  challenger?: Scorer;
  /** Read once per batch, so a reload takes effect between batches. */
  rules: () => RuleSet;
  policy: DecisionPolicy;
  now?: () => number;
  /** Bounds how far ahead an event may move windows (clock.ts); none: no bound. */
  clock?: FeatureClock;
  /**
   * Which decisions are built in full (features, reasons, the event): every one (the
   * default), or only those other than allow, when nobody reads the allows.
   */
  decisions?: 'all' | 'alerts';
}

export interface Decided {
  index: number;
  outcome: DecisionOutcome;
  score: number;
  ruleHits: RuleHit[];
  /** The rules' verdict alone (their highest-priority hit's action), without the model; null when no rule decided. */
  rulesOutcome: DecisionOutcome | null;
  /** The full decision; null for an allow when `decisions` is 'alerts'. */
  decision: Decision | null;
  eventTimeMs: number;
  /** Older than the allowed lateness: decided on a best-effort read, not applied. */
  tooLate: boolean;
  duplicate: boolean;
  /** Decided on what its partition's journal recorded when it was first decided (a redelivery). */
  replayed: boolean;
  /** Dated past the clock's bound: decided on the windows as of the bound, not applied. */
  future: boolean;
  /** The model's own score (before rules' score adjustments), and the challenger's when there is one. */
  modelScore: number;
  challengerScore: number | null;
  shadowHits: string[];
  ruleErrors: { id: string; error: string }[];
}

export interface BatchOutcome {
  decided: Decided[];
  rejected: Rejected[];
  timings: { features: number; score: number; rules: number };
  /** Set when the challenger failed to score the batch: its scores are missing, nothing else is. */
  challengerError?: string;
}

/** The partitions a live batch came from: its events are journaled so a redelivery is decided the same way. */
export interface InputJournal {
  /** The journal of input `index`'s partition. */
  targetOf: (index: number) => JournalTarget;
  /** The offset of input `index` in its partition. */
  offsetOf: (index: number) => number;
  /** Input `index`'s partition's journal as claimed. */
  recordedOf: (index: number) => JournalRecord | undefined;
}

export async function processBatch<T>(inputs: readonly T[], parse: (input: T) => ParsedTransaction, deps: PipelineDeps, journal?: InputJournal): Promise<BatchOutcome> {
  const { valid, rejected, features, t0 } = await featuresOf(inputs, parse, deps, journal);
  return scoreAndDecide(valid, rejected, features, deps, t0);
}

/** The first half of a batch: validate, then the features (one store call). */
export async function featuresOf<T>(inputs: readonly T[], parse: (input: T) => ParsedTransaction, deps: PipelineDeps, journal?: InputJournal): Promise<{ valid: { index: number; value: ParsedTransaction }[]; rejected: Rejected[]; features: BatchFeatures; t0: number }> {
  const { valid, rejected } = validateEach(inputs, parse);
  const t0 = performance.now();
  const txs = valid.map((v) => v.value);
  const batchJournal = journal && { targets: valid.map((v) => journal.targetOf(v.index)), offsets: valid.map((v) => journal.offsetOf(v.index)), recorded: valid.map((v) => journal.recordedOf(v.index)) };
  const features = await computeFeatures(txs, deps.features, deps.store, batchJournal, deps.clock);
  return { valid, rejected, features, t0 };
}

/**
 * The second half of a batch, once its features are known: score (one model run), rules,
 * decide. `replay` runs it on another thread than the features (offline/decide-thread.ts).
 */
export async function scoreAndDecide(valid: { index: number; value: ParsedTransaction }[], rejected: Rejected[], features: BatchFeatures, deps: Omit<PipelineDeps, 'store'>, t0: number = performance.now()): Promise<BatchOutcome> {
  const t1 = performance.now();
  const txs = valid.map((v) => v.value);
  const champion = leaseOf(deps.scorer);
  const challenger = deps.challenger ? leaseOf(deps.challenger) : null;
  try {
    const width = deps.features.names.length;
    // The challenger decides nothing, so its failure costs the batch only its scores.
    let challengerError: string | undefined;
    const decisive = champion.scorer.score(features.matrix, txs.length, width);
    const shadow = challenger?.scorer.score(features.matrix, txs.length, width).catch((err: unknown) => {
      challengerError = err instanceof Error ? err.message : String(err);
      return undefined;
    });
    const [scores, challengerScores] = await Promise.all([decisive, shadow]);
    const outcome = decideAll(valid, rejected, features, { scores, challengerScores, model: champion.scorer, challenger: challenger?.scorer }, deps, { t0, t1, t2: performance.now() });
    return challengerError === undefined ? outcome : { ...outcome, challengerError };
  } finally {
    champion.release();
    challenger?.release();
  }
}

interface BatchScores {
  scores: Float32Array;
  challengerScores: Float32Array | undefined;
  /** The models that scored this batch (a swap during it changes nothing for it). */
  model: Scorer;
  challenger: Scorer | undefined;
}

/** Explanations on each alert: the model's top features. */
const TOP_CONTRIBUTIONS = 5;

/** Rules, policy and decisions for a scored batch. */
function decideAll(valid: { index: number; value: ParsedTransaction }[], rejected: Rejected[], features: BatchFeatures, scored: BatchScores, deps: Omit<PipelineDeps, 'store'>, times: { t0: number; t1: number; t2: number }): BatchOutcome {
  const { scores, challengerScores, model, challenger } = scored;
  const { t0, t1, t2 } = times;
  const now = deps.now ?? Date.now;
  const rules = deps.rules();
  const all = (deps.decisions ?? 'all') === 'all';
  const decidedAt = new Date(now()).toISOString();
  const scratch = valid.length > 0 ? features.named(0) : {};
  const decided = valid.map(({ index, value: tx }, row): Decided => {
    const score = scores[row] as number;
    const evaluation = rules.evaluate({ event: tx.event, features: features.namedInto(row, scratch), score });
    const policy = decide(deps.policy, score, evaluation);
    const full = all || policy.decision !== 'allow';
    const challengerScore = challengerScores ? (challengerScores[row] as number) : null;
    const contributions = policy.decision !== 'allow' && model.explainer ? model.explainer.top(features.matrix, row, TOP_CONTRIBUTIONS) : undefined;
    return {
      index,
      outcome: policy.decision,
      score: policy.score,
      ruleHits: evaluation.hits,
      rulesOutcome: evaluation.outcome,
      eventTimeMs: tx.eventTimeMs,
      tooLate: features.tooLate[row] === 1,
      duplicate: features.duplicate[row] === 1,
      replayed: features.replayed[row] === 1,
      future: features.future[row] === 1,
      modelScore: score,
      challengerScore,
      shadowHits: evaluation.shadowHits.map((h) => h.id),
      ruleErrors: evaluation.errors,
      decision: full
        ? {
            schemaVersion: DECISION_SCHEMA_VERSION,
            transactionId: tx.event.transactionId,
            accountId: tx.event.accountId,
            decision: policy.decision,
            score: policy.score,
            modelVersion: model.version,
            rulesVersion: rules.version,
            ruleHits: evaluation.hits,
            topReasons: policy.topReasons,
            eventTime: new Date(tx.eventTimeMs).toISOString(),
            decidedAt,
            features: features.named(row),
            ...(contributions !== undefined ? { contributions } : {}),
            ...(challenger !== undefined && challengerScore !== null ? { challenger: { version: challenger.version, score: challengerScore } } : {}),
            event: tx.event,
          }
        : null,
    };
  });
  const t3 = performance.now();
  return { decided, rejected, timings: { features: (t1 - t0) / 1000, score: (t2 - t1) / 1000, rules: (t3 - t2) / 1000 } };
}
