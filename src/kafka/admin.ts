// The detector's topics: which ones, with how many partitions, how many replicas and which
// topic configs (the plan), and their creation when missing; existing topics are left as they are.
import type { Config } from '../config.js';
import type { KafkaSettings } from './client.js';
import { createAdmin } from './client.js';

export interface TopicPlan {
  topic: string;
  partitions: number;
  /** Copies of each partition; undefined: the broker's `default.replication.factor`. */
  replicationFactor?: number;
  /** Topic-level configs set at creation, e.g. `min.insync.replicas`. */
  configs: Readonly<Record<string, string>>;
}

/**
 * The topics `run` reads and writes. Replication comes from TOPIC_REPLICATION_FACTOR and
 * TOPIC_MIN_INSYNC_REPLICAS (unset: the broker's defaults, so a single local broker works);
 * with the producer's acks=all, min.insync.replicas is how many copies a write needs.
 */
export function topicPlan(config: Config): TopicPlan[] {
  const p = config.TRANSACTIONS_PARTITIONS;
  const replicationFactor = config.TOPIC_REPLICATION_FACTOR;
  const configs: Record<string, string> = {};
  if (config.TOPIC_MIN_INSYNC_REPLICAS !== undefined) configs['min.insync.replicas'] = String(config.TOPIC_MIN_INSYNC_REPLICAS);
  const topic = (name: string, partitions: number): TopicPlan => ({ topic: name, partitions, replicationFactor, configs });
  return [
    topic(config.TOPIC_TRANSACTIONS, p),
    topic(config.TOPIC_ALERTS, p),
    topic(config.TOPIC_DECISIONS, p),
    topic(config.TOPIC_DLQ, Math.min(p, 3)),
    topic(config.TOPIC_LABELS, p),
  ];
}

/** Returns the topics it created. */
export async function ensureTopics(settings: KafkaSettings, plan: readonly TopicPlan[]): Promise<string[]> {
  const admin = createAdmin(settings);
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = plan.filter((t) => !existing.has(t.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          ...(t.replicationFactor !== undefined && { replicationFactor: t.replicationFactor }),
          configEntries: Object.entries(t.configs).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    return missing.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}

/** How the plan reads in a line: `6 partitions, replication factor 3, min.insync.replicas=2`. */
export function describePlan(t: TopicPlan): string {
  const parts = [`${t.partitions} partitions`, `replication factor ${t.replicationFactor ?? "the broker's default"}`];
  for (const [name, value] of Object.entries(t.configs)) parts.push(`${name}=${value}`);
  return parts.join(', ');
}
