// `fraud-detector topics create`: creates the detector's topics when missing, with the
// replication factor and min.insync.replicas from the flags or the configuration.
import type { Command } from 'commander';
import { describePlan, ensureTopics, topicPlan } from '../kafka/admin.js';
import { kafkaSettings } from '../kafka/client.js';
import { configWith } from './build.js';

interface TopicsCreateFlags {
  replicationFactor?: string;
  minInsyncReplicas?: string;
}

export function registerTopics(program: Command): void {
  program
    .command('topics')
    .description('manage the Kafka topics')
    .command('create')
    .description('create the transactions, alerts, decisions, dead-letter and labels topics if missing')
    .option('--replication-factor <n>', "copies of each partition (default: TOPIC_REPLICATION_FACTOR, else the broker's default); 3 in production")
    .option('--min-insync-replicas <n>', "the topics' min.insync.replicas (default: TOPIC_MIN_INSYNC_REPLICAS, else the broker's default); 2 in production")
    .action(async (flags: TopicsCreateFlags) => {
      const config = configWith({ TOPIC_REPLICATION_FACTOR: flags.replicationFactor, TOPIC_MIN_INSYNC_REPLICAS: flags.minInsyncReplicas });
      const plan = topicPlan(config);
      const created = await ensureTopics(kafkaSettings(config), plan);
      for (const t of plan) console.log(`${created.includes(t.topic) ? 'created' : 'exists '}  ${t.topic} (${describePlan(t)} when created)`);
    });
}
