// Builds the pipeline's parts from the configuration; shared by the commands that decide.
import { loadConfig, type Config } from '../config.js';
import type { EventLimits } from '../contract/decode.js';
import { DEFAULT_FEATURE_SET, type FeatureSet } from '../features/definitions.js';
import { WallClock } from '../features/clock.js';
import { loadFeatureSet } from '../features/load.js';
import { MemoryFeatureStore } from '../features/memory/memory-store.js';
import { connectRedis } from '../features/redis/connect.js';
import { RedisFeatureStore } from '../features/redis/redis-store.js';
import { redisTarget } from '../features/redis/target.js';
import type { FeatureStore } from '../features/store.js';
import { CoalescingFeatureStore } from '../features/coalescing-store.js';
import { ThreadedFeatureStore } from '../features/threaded/threaded-store.js';
import { NoModelScorer, type Scorer } from '../models/scorer.js';
import { ModelSlot } from '../models/model-slot.js';
import { OnnxModel } from '../models/onnx-model.js';
import { trainedFeaturesFile, type ModelCard } from '../models/model-card.js';
import type { DecisionPolicy } from '../pipeline/decide.js';
import { loadRuleSet } from '../rules/load.js';
import type { RuleSet } from '../rules/rule-set.js';
import type { PipelineDeps } from '../pipeline/process-batch.js';

/** The configuration, with the settings a command's flags give (unset flags left out). */
export function configWith(overrides: Record<string, string | undefined>): Config {
  return loadConfig(undefined, Object.fromEntries(Object.entries(overrides).filter((e): e is [string, string] => e[1] !== undefined)));
}

/**
 * The feature set: FEATURES_FILE when given (refused with file, line and cause); else the file
 * MODEL_PATH's card names (a `train --search` model, served with the features it was trained
 * on); else the default. Whichever it is, the model's features are checked against it at load.
 */
export function featureSetFor(config: Config): FeatureSet {
  if (config.FEATURES_FILE) return loadFeatureSet(config.FEATURES_FILE);
  const trained = config.MODEL_PATH ? trainedFeaturesFile(config.MODEL_PATH) : undefined;
  return trained ? loadFeatureSet(trained) : DEFAULT_FEATURE_SET;
}

/** The rule set RULES_DIR and the lists hold, with the configured breaker; throws RuleCompileError. */
export function rulesFor(config: Config, features: FeatureSet): RuleSet {
  return loadRuleSet(config.RULES_DIR, features, { listsDir: config.LISTS_DIR, defaultMaxHitRate: config.RULE_MAX_HIT_RATE, breakerWindow: config.RULE_BREAKER_WINDOW });
}

export function longestWindowMs(features: FeatureSet): number {
  return Math.max(0, ...features.entities.flatMap((e) => e.windows.map((w) => w.bucketMs * w.buckets)));
}

export interface StoreHooks {
  onConflict?: (entities: number) => void;
  onError?: (err: Error) => void;
}

export function redisStore(config: Config, hooks: StoreHooks = {}, features: FeatureSet = DEFAULT_FEATURE_SET): FeatureStore {
  const target = redisTarget(config);
  const options = {
    keyPrefix: config.REDIS_KEY_PREFIX,
    allowedLatenessMs: config.ALLOWED_LATENESS_MS,
    ttlMs: longestWindowMs(features) + config.ALLOWED_LATENESS_MS,
  };
  const store = config.FEATURE_STORE_THREAD
    ? new ThreadedFeatureStore({ target, options, onConflict: hooks.onConflict, onError: hooks.onError })
    : new RedisFeatureStore(connectRedis(target, hooks.onError), { ...options, onConflict: hooks.onConflict });
  return new CoalescingFeatureStore(store);
}

export function memoryStore(config: Config): FeatureStore {
  return new MemoryFeatureStore({ allowedLatenessMs: config.ALLOWED_LATENESS_MS });
}

export interface Models {
  /** The model that decides (a slot, so it can be swapped), or one that scores 0. */
  scorer: Scorer;
  challenger?: ModelSlot<OnnxModel>;
}

/** MODEL_PATH and CHALLENGER_MODEL_PATH, loaded and checked; throws ModelLoadError. */
export async function modelsFor(config: Config, features: FeatureSet): Promise<Models> {
  const scorer = config.MODEL_PATH ? new ModelSlot(await OnnxModel.load(config.MODEL_PATH, features.names)) : new NoModelScorer();
  const challenger = config.CHALLENGER_MODEL_PATH ? new ModelSlot(await OnnxModel.load(config.CHALLENGER_MODEL_PATH, features.names)) : undefined;
  return challenger ? { scorer, challenger } : { scorer };
}

/** The card of the ONNX model in a slot now; none for a scorer without one. */
export function cardOf(scorer: Scorer): ModelCard | undefined {
  return scorer instanceof ModelSlot && scorer.model instanceof OnnxModel ? scorer.model.card : undefined;
}

/** The score bands: REVIEW_THRESHOLD and BLOCK_THRESHOLD, else the model card's, else 0.5 and 0.9. */
export function policyFor(config: Config, scorer: Scorer): DecisionPolicy {
  const card = cardOf(scorer)?.thresholds;
  const review = config.REVIEW_THRESHOLD ?? card?.review ?? 0.5;
  return { reviewThreshold: review, blockThreshold: config.BLOCK_THRESHOLD ?? Math.max(review, card?.block ?? 0.9) };
}

export interface Pipeline {
  deps: PipelineDeps;
  /** Swaps in a new rule set; the next batch uses it. */
  setRules(rules: RuleSet): void;
}

/**
 * `decisions`: 'alerts' when only alerts leave the process (the worker without
 * EMIT_DECISIONS), so allows are not built in full; 'all' for replay and the decisions topic.
 */
export function buildPipeline(config: Config, store: FeatureStore, decisions: 'all' | 'alerts' = 'all', features: FeatureSet = DEFAULT_FEATURE_SET, models: Models = { scorer: new NoModelScorer() }, initialRules?: RuleSet): Pipeline {
  // Given rules replace RULES_DIR's, which is then not read at all (it may not fit these features).
  let rules = initialRules ?? rulesFor(config, features);
  const deps: PipelineDeps = {
    features,
    store,
    scorer: models.scorer,
    rules: () => rules,
    policy: policyFor(config, models.scorer),
    decisions,
    clock: new WallClock(config.MAX_FUTURE_SKEW_MS),
  };
  if (models.challenger) deps.challenger = models.challenger;
  return {
    deps,
    setRules: (next) => {
      rules = next;
    },
  };
}

/** MAX_EVENT_BYTES and MAX_EVENT_DEPTH: the limits every input goes through, in `run` and the offline commands. */
export function eventLimits(config: Config): EventLimits {
  return { maxBytes: config.MAX_EVENT_BYTES, maxDepth: config.MAX_EVENT_DEPTH };
}

/**
 * The pipeline of an offline command, over a fresh in-memory store: `rules` (a backtest's,
 * breakers off) instead of RULES_DIR's when given.
 */
export function offlinePipeline(config: Config, features: FeatureSet, options: { decisions: 'all' | 'alerts'; models?: Models; rules?: RuleSet }): PipelineDeps {
  const pipeline = buildPipeline(config, memoryStore(config), options.decisions, features, options.models, options.rules);
  return { ...pipeline.deps, ...offlineFeatures(config, features) };
}

/**
 * The features of an offline command: a fresh in-memory store, and the clock bound (history is
 * applied in event-time order, so only events past the real now are held back: clock.ts).
 */
export function offlineFeatures(config: Config, features: FeatureSet): Pick<PipelineDeps, 'features' | 'store' | 'clock'> {
  return { features, store: memoryStore(config), clock: new WallClock(config.MAX_FUTURE_SKEW_MS) };
}
