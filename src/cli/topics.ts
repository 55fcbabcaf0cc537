// `fraud-detector topics create`: creates the detector's topics when missing.
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { ensureTopics, topicPlan } from '../kafka/admin.js';
import { kafkaSettings } from '../kafka/client.js';

export function registerTopics(program: Command): void {
  program
    .command('topics')
    .description('manage the Kafka topics')
    .command('create')
    .description('create the transactions, alerts, decisions, dead-letter and labels topics if missing')
    .action(async () => {
      const config = loadConfig();
      const plan = topicPlan(config);
      const created = await ensureTopics(kafkaSettings(config), plan);
      for (const t of plan) console.log(`${created.includes(t.topic) ? 'created' : 'exists '}  ${t.topic} (${t.partitions} partitions when created)`);
    });
}
