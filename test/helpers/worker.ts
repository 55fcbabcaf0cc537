// Starts a real DetectorWorker in-process against the local Kafka and Redis, on fresh topics.
import { Registry } from 'prom-client';
import { pino, type Logger } from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { buildPipeline, featureSetFor, redisStore } from '../../src/cli/build.js';
import { workerOptions } from '../../src/cli/worker-options.js';
import { topicPlan } from '../../src/kafka/admin.js';
import { DetectorWorker, type WorkerOptions, type WorkerSeams } from '../../src/kafka/worker.js';
import type { FeatureStore } from '../../src/features/store.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { createTopics, KAFKA_BROKERS, REDIS_URL, uniqueName } from './services.js';

export interface TestWorld {
  config: Config;
  /** Creates the topics of this world; `configs`: topic configs by topic name. */
  setup(configs?: Record<string, Record<string, string>>): Promise<void>;
  /** `wrapStore` puts a test double around the real Redis store (to make calls fail, say); `logger` hears the worker's logs. */
  start(options?: { wrapStore?: (store: FeatureStore) => FeatureStore; logger?: Logger; worker?: Partial<WorkerOptions>; seams?: WorkerSeams }): Promise<{ worker: DetectorWorker; metrics: Metrics; registry: Registry; stop: () => Promise<void> }>;
}

export function testWorld(overrides: Record<string, string> = {}): TestWorld {
  const id = uniqueName('w');
  const config = loadConfig({}, {
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    REDIS_URL,
    KAFKA_GROUP_ID: `${id}-group`,
    TOPIC_TRANSACTIONS: `${id}-tx`,
    TOPIC_ALERTS: `${id}-alerts`,
    TOPIC_DECISIONS: `${id}-decisions`,
    TOPIC_DLQ: `${id}-dlq`,
    TOPIC_LABELS: `${id}-labels`,
    TRANSACTIONS_PARTITIONS: '3',
    REDIS_KEY_PREFIX: id,
    EMIT_DECISIONS: 'true',
    HTTP_PORT: '0',
    ...overrides,
  });
  return {
    config,
    setup: (configs = {}) => createTopics(topicPlan(config).map((t) => ({ ...t, configs: { ...t.configs, ...configs[t.topic] } }))),
    start: async (options = {}) => {
      const registry = new Registry();
      const metrics = createMetrics(registry);
      const features = featureSetFor(config);
      const real = redisStore(config, { onConflict: (n) => metrics.featureConflicts.inc(n) }, features);
      const store = options.wrapStore?.(real) ?? real;
      const pipeline = buildPipeline(config, store, config.EMIT_DECISIONS ? 'all' : 'alerts', features);
      const worker = new DetectorWorker(
        { ...workerOptions(config), maxBackoffMs: 500, ...options.worker },
        pipeline.deps,
        metrics,
        options.logger ?? pino({ level: 'silent' }),
        options.seams,
      );
      await worker.start();
      return {
        worker,
        metrics,
        registry,
        stop: async () => {
          await worker.stop();
          await store.close();
        },
      };
    },
  };
}
