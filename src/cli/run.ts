// `fraud-detector run`: the consumer-group worker, with /metrics, /healthz and /readyz.
import type { Command } from 'commander';
import { Registry } from 'prom-client';
import { loadConfig } from '../config.js';
import { DetectorWorker } from '../kafka/worker.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { startHealthServer } from '../observability/health-server.js';
import { RulesReloader } from '../rules/reloader.js';
import type { RuleSet } from '../rules/rule-set.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { buildPipeline, featureSetFor, redisStore, rulesFor, workerOptions } from './build.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('consume transactions, decide, and emit alerts (configuration from env vars; see README)')
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config.LOG_LEVEL);
      const registry = new Registry();
      const metrics = createMetrics(registry);
      const features = featureSetFor(config);
      const store = redisStore(config, {
        onConflict: (n) => metrics.featureConflicts.inc(n),
        onError: (err) => logger.debug({ err: err.message }, 'redis connection error'),
      }, features);
      const pipeline = buildPipeline(config, store, config.EMIT_DECISIONS ? 'all' : 'alerts', features);
      metrics.modelInfo.set({ version: pipeline.deps.scorer.version }, 1);
      metrics.rulesInfo.set({ version: pipeline.deps.rules().version }, 1);
      watchBreakers(pipeline.deps.rules(), metrics, logger);
      const worker = new DetectorWorker(
        workerOptions(config),
        pipeline.deps,
        metrics,
        logger,
      );
      const server = await startHealthServer(config.HTTP_HOST, config.HTTP_PORT, registry, worker);
      logger.info({ port: server.port, rulesVersion: pipeline.deps.rules().version, modelVersion: pipeline.deps.scorer.version }, 'http server listening');

      const reloader = new RulesReloader({
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
      process.on('SIGHUP', () => reloader.reload('SIGHUP'));
      if (config.RULES_WATCH) reloader.watch(config.LISTS_DIR === undefined ? [config.RULES_DIR] : [config.RULES_DIR, config.LISTS_DIR]);

      let stopping = false;
      const shutdown = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal, timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'draining');
        const timer = setTimeout(() => {
          logger.error('drain did not finish in SHUTDOWN_TIMEOUT_MS; exiting without a clean leave');
          process.exit(1);
        }, config.SHUTDOWN_TIMEOUT_MS);
        timer.unref();
        void (async () => {
          reloader.close();
          await worker.stop();
          await store.close();
          await server.close();
          logger.info('stopped cleanly');
          process.exit(0);
        })();
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
      await worker.start();
    });
}

/** Breaker changes of this rule set go to the log and to fraud_detector_rule_breaker_open. */
function watchBreakers(rules: RuleSet, metrics: Metrics, logger: Logger): void {
  metrics.ruleBreakerOpen.reset();
  for (const rule of rules.rules) if (rules.hasBreaker(rule.id)) metrics.ruleBreakerOpen.set({ rule: rule.id }, 0);
  rules.onBreakerChange((rule, open, hitRate) => {
    metrics.ruleBreakerOpen.set({ rule }, open ? 1 : 0);
    if (open) logger.warn({ rule, hitRate }, 'rule breaker open: the rule hits more than its share of events and runs as shadow until it calms down');
    else logger.info({ rule, hitRate }, 'rule breaker closed: the rule decides again');
  });
}
