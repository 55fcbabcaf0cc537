// Creates the detector's topics when they are missing; existing topics are left as they are.
import type { Config } from '../config.js';
import type { KafkaSettings } from './client.js';
import { createAdmin } from './client.js';

export interface TopicPlan {
  topic: string;
  partitions: number;
}

export function topicPlan(config: Config): TopicPlan[] {
  const p = config.TRANSACTIONS_PARTITIONS;
  return [
    { topic: config.TOPIC_TRANSACTIONS, partitions: p },
    { topic: config.TOPIC_ALERTS, partitions: p },
    { topic: config.TOPIC_DECISIONS, partitions: p },
    { topic: config.TOPIC_DLQ, partitions: Math.min(p, 3) },
    { topic: config.TOPIC_LABELS, partitions: p },
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
      await admin.createTopics({ topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions })) });
    }
    return missing.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}
