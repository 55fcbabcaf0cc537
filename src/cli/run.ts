// `fraud-detector run`: the consumer-group worker, with /metrics, /healthz and /readyz.
import { basename, dirname } from 'node:path';
import type { Command } from 'commander';
import { Registry } from 'prom-client';
import { loadConfig, type Config } from '../config.js';
import { kafkaSettings } from '../kafka/client.js';
import { checkKafkaAccess } from '../kafka/preflight.js';
import { describeKafkaSecurity } from '../kafka/security.js';
import { exitProcess } from '../kafka/client-closes.js';
import { DetectorWorker } from '../kafka/worker.js';
import { ModelReloader } from '../models/model-reloader.js';
import { ModelSlot } from '../models/model-slot.js';
import { OnnxModel } from '../models/onnx-model.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics, initialiseMetrics, initialiseRuleMetrics, type Metrics } from '../observability/metrics.js';
import { startHealthServer } from '../observability/health-server.js';
import { RulesReloader } from '../rules/reloader.js';
import type { RuleSet } from '../rules/rule-set.js';
import { isLabelEntity, type FeatureSet } from '../features/definitions.js';
import { buildPipeline, featureSetFor, modelsFor, policyFor, redisStore, rulesFor, type Pipeline } from './build.js';
import { workerOptions } from './worker-options.js';
import { handleSignals } from './early-signals.js';
import { watchForChanges, type Watch } from './watch.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('consume transactions, decide, and emit alerts (configuration from env vars; see README)')
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.LOG_LEVEL);
      // Signals are heard from the start: a worker told to stop while it still loads its model
      // and connects (a rollout, a scale-in) stops cleanly instead of dying by the signal.
      let shutdown: ((signal: string) => void) | null = null;
      let early: string | null = null;
      const onSignal = (signal: string): void => {
        if (shutdown !== null) shutdown(signal);
        else early ??= signal;
      };
      handleSignals(onSignal);
      logger.info({ group: config.KAFKA_GROUP_ID, model: config.MODEL_PATH ?? null }, 'starting');
      const registry = new Registry();
      const metrics = createMetrics(registry);
      initialiseMetrics(metrics);
      const features = featureSetFor(config);
      await checkAccess(config, features, logger);
      const models = await modelsFor(config, features);
      const store = redisStore(config, {
        onConflict: (n) => metrics.featureConflicts.inc(n),
        onError: (err) => logger.debug({ err: err.message }, 'redis connection error'),
      }, features);
      const pipeline = buildPipeline(config, store, config.EMIT_DECISIONS ? 'all' : 'alerts', features, models);
      showModels(pipeline, metrics);
      metrics.rulesInfo.set({ version: pipeline.deps.rules().version }, 1);
      watchBreakers(pipeline.deps.rules(), metrics, logger);
      const worker = new DetectorWorker(workerOptions(config), pipeline.deps, metrics, logger);
      const server = await startHealthServer(config.HTTP_HOST, config.HTTP_PORT, registry, worker);
      logger.info({ port: server.port, rulesVersion: pipeline.deps.rules().version, modelVersion: pipeline.deps.scorer.version, thresholds: pipeline.deps.policy }, 'http server listening');

      const reloads = hotReload(config, pipeline, metrics, logger);
      let stopping = false;
      let fatal: Error | null = null;
      shutdown = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal, timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'draining');
        const timer = setTimeout(() => {
          logger.error('drain did not finish in SHUTDOWN_TIMEOUT_MS; exiting without a clean leave');
          exitProcess(1, worker.closingClients(), logger);
        }, config.SHUTDOWN_TIMEOUT_MS);
        timer.unref();
        void (async () => {
          for (const w of reloads) w.close();
          const { uncommitted, closing } = await worker.stop();
          await store.close();
          await server.close();
          if (uncommitted.length > 0) {
            logger.error({ uncommitted: uncommitted.length }, 'stopped; the broker did not accept the final commits of some partitions');
            exitProcess(1, closing, logger);
          } else if (fatal !== null) {
            logger.error({ err: fatal.message }, 'stopped after a fatal Kafka client error; exiting 70 so the pod is restarted with new clients');
            exitProcess(70, closing, logger);
          } else {
            if (closing.length === 0) logger.info('stopped cleanly');
            exitProcess(closing.length === 0 ? 0 : 1, closing, logger);
          }
        })();
      };
      // A fatal client error (librdkafka's idempotent producer can raise one) is not retried:
      // the worker drains what it can and the process ends, to be restarted with new clients.
      worker.onFatal((err) => {
        fatal = err;
        shutdown?.('fatal client error');
      });
      if (early !== null) shutdown(early);
      await worker.start();
    });
}

/**
 * On a secured connection (TLS or SASL), before loading anything slow: the brokers must accept
 * this worker's certificate check and credentials, and its principal must be authorized on its
 * topics and groups; a refusal ends the start with the reason (a KafkaError, no secret in it).
 * A cluster that does not answer is not a refusal: the worker starts and waits for it.
 */
async function checkAccess(config: Config, features: FeatureSet, logger: Logger): Promise<void> {
  if (config.KAFKA_SECURITY_PROTOCOL === 'plaintext') return;
  logger.info({ kafka: describeKafkaSecurity(config) }, 'kafka security');
  if (config.KAFKA_SSL_ENDPOINT_IDENTIFICATION === 'none') logger.warn('KAFKA_SSL_ENDPOINT_IDENTIFICATION=none: brokers\' certificates are not checked against their names');
  const labels = features.entities.some((e) => isLabelEntity(e.entity));
  const topics = [config.TOPIC_TRANSACTIONS, config.TOPIC_ALERTS, config.TOPIC_DLQ, ...(config.EMIT_DECISIONS ? [config.TOPIC_DECISIONS] : []), ...(labels ? [config.TOPIC_LABELS] : [])];
  const groups = [config.KAFKA_GROUP_ID, ...(labels ? [config.KAFKA_LABELS_GROUP_ID ?? `${config.KAFKA_GROUP_ID}-labels`] : [])];
  const outcome = await checkKafkaAccess(kafkaSettings(config), { topics, groups });
  if (outcome === 'unanswered') logger.warn('Kafka did not answer the access check in time; starting, not ready until it answers');
  else logger.info({ topics, groups }, 'kafka access checked');
}

/** SIGHUP reloads the rules and the models; with RULES_WATCH and MODEL_WATCH, so does a changed file. */
function hotReload(config: Config, pipeline: Pipeline, metrics: Metrics, logger: Logger): Watch[] {
  const rules = new RulesReloader({
    current: pipeline.deps.rules,
    load: () => rulesFor(config, pipeline.deps.features),
    apply: (next) => {
      watchBreakers(next, metrics, logger);
      pipeline.setRules(next);
    },
    onReloaded: (next, trigger) => {
      metrics.rulesInfo.reset();
      metrics.rulesInfo.set({ version: next.version }, 1);
      metrics.reloads.inc({ kind: 'rules', result: 'success' });
      logger.info({ rulesVersion: next.version, trigger }, 'rules reloaded');
    },
    onRefused: (err, trigger) => {
      metrics.reloads.inc({ kind: 'rules', result: 'failure' });
      logger.error({ err: err.message, code: (err as { code?: string }).code, trigger }, 'rules reload refused; the running version stays');
    },
  });
  const models = [
    { path: config.MODEL_PATH, slot: pipeline.deps.scorer, role: 'champion' },
    { path: config.CHALLENGER_MODEL_PATH, slot: pipeline.deps.challenger, role: 'challenger' },
  ].flatMap(({ path, slot, role }) => (path !== undefined && slot instanceof ModelSlot ? [{ path, role, reloader: modelReloader(config, path, role, slot as ModelSlot<OnnxModel>, pipeline, metrics, logger) }] : []));
  process.on('SIGHUP', () => {
    rules.reload('SIGHUP');
    for (const m of models) void m.reloader.reload('SIGHUP');
  });
  const watches: Watch[] = [];
  if (config.RULES_WATCH) watches.push(watchForChanges(config.LISTS_DIR === undefined ? [config.RULES_DIR] : [config.RULES_DIR, config.LISTS_DIR], () => rules.reload('file change')));
  if (config.MODEL_WATCH) {
    for (const m of models) {
      const stem = basename(m.path, '.onnx');
      watches.push(watchForChanges([dirname(m.path)], () => void m.reloader.reload('file change'), { accept: (file) => basename(file).startsWith(stem) }));
    }
  }
  return watches;
}

function modelReloader(config: Config, path: string, role: string, slot: ModelSlot<OnnxModel>, pipeline: Pipeline, metrics: Metrics, logger: Logger): ModelReloader {
  return new ModelReloader(slot, {
    load: () => OnnxModel.load(path, pipeline.deps.features.names),
    onSwapped: (next, previous, trigger) => {
      if (role === 'champion') pipeline.deps.policy = policyFor(config, slot);
      showModels(pipeline, metrics);
      metrics.reloads.inc({ kind: 'model', result: 'success' });
      logger.info({ role, modelVersion: next.version, previous: previous.version, trigger, thresholds: pipeline.deps.policy }, 'model swapped');
    },
    onRefused: (err, trigger) => {
      metrics.reloads.inc({ kind: 'model', result: 'failure' });
      logger.error({ role, err: err.message, code: (err as { code?: string }).code, trigger }, 'model reload refused; the running model stays');
    },
  });
}

function showModels(pipeline: Pipeline, metrics: Metrics): void {
  metrics.modelInfo.reset();
  metrics.modelInfo.set({ version: pipeline.deps.scorer.version, role: 'champion' }, 1);
  if (pipeline.deps.challenger) metrics.modelInfo.set({ version: pipeline.deps.challenger.version, role: 'challenger' }, 1);
}

/** Breaker changes of this rule set go to the log and to fraud_detector_rule_breaker_open. */
function watchBreakers(rules: RuleSet, metrics: Metrics, logger: Logger): void {
  initialiseRuleMetrics(metrics, rules.rules.map((r) => r.id));
  metrics.ruleBreakerOpen.reset();
  for (const rule of rules.rules) if (rules.hasBreaker(rule.id)) metrics.ruleBreakerOpen.set({ rule: rule.id }, 0);
  rules.onBreakerChange((rule, open, hitRate) => {
    metrics.ruleBreakerOpen.set({ rule }, open ? 1 : 0);
    if (open) logger.warn({ rule, hitRate }, 'rule breaker open: the rule hits more than its share of events and runs as shadow until it calms down');
    else logger.info({ rule, hitRate }, 'rule breaker closed: the rule decides again');
  });
}
