// `fraud-detector run`: the consumer-group worker, with /metrics, /healthz and /readyz.
import type { Command } from 'commander';
import { Registry } from 'prom-client';
import { loadConfig } from '../config.js';
import { DetectorWorker } from '../kafka/worker.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { startHealthServer } from '../observability/health-server.js';
import { loadRuleSet } from '../rules/load.js';
import { buildPipeline, featureSetFor, redisStore, workerOptions } from './build.js';

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
      const worker = new DetectorWorker(
        workerOptions(config),
        pipeline.deps,
        metrics,
        logger,
      );
      const server = await startHealthServer(config.HTTP_HOST, config.HTTP_PORT, registry, worker);
      logger.info({ port: server.port, rulesVersion: pipeline.deps.rules().version, modelVersion: pipeline.deps.scorer.version }, 'http server listening');

      process.on('SIGHUP', () => {
        try {
          const next = loadRuleSet(config.RULES_DIR, pipeline.deps.features);
          metrics.rulesInfo.reset();
          metrics.rulesInfo.set({ version: next.version }, 1);
          pipeline.setRules(next);
          metrics.reloads.inc({ kind: 'rules', result: 'success' });
          logger.info({ rulesVersion: next.version }, 'rules reloaded');
        } catch (err) {
          metrics.reloads.inc({ kind: 'rules', result: 'failure' });
          logger.error({ err: (err as Error).message, code: (err as { code?: string }).code }, 'rules reload refused; the running version stays');
        }
      });

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
