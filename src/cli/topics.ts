// `fraud-detector topics create`: creates the detector's topics when missing, with the
// replication factor and min.insync.replicas from the flags or the configuration.
// `fraud-detector topics acls`: the least-privilege ACLs of the detector and its neighbours,
// printed, or added with Kafka's kafka-acls tool (--apply).
import type { Command } from 'commander';
import { applyAcls, printableCommands } from '../kafka/acl-tool.js';
import { aclPlan, aclTable, type AclPrincipals } from '../kafka/acls.js';
import { describePlan, ensureTopics, topicPlan } from '../kafka/admin.js';
import { kafkaSettings } from '../kafka/client.js';
import { configWith } from './build.js';

interface TopicsCreateFlags {
  replicationFactor?: string;
  minInsyncReplicas?: string;
}

interface TopicsAclsFlags {
  detector: string;
  producer: string;
  subscriber: string;
  subscriberGroup: string;
  commands: boolean;
  apply: boolean;
  kafkaAcls: string;
}

export function registerTopics(program: Command): void {
  const topics = program.command('topics').description('manage the Kafka topics and their ACLs');
  topics
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
  topics
    .command('acls')
    .description("the ACLs the detector, the transactions' producer and an alerts subscriber need, and nothing more (topic and group names from the configuration); --apply adds them")
    .option('--detector <principal>', "the worker's principal", 'User:fraud-detector')
    .option('--producer <principal>', 'the principal that writes transactions and labels', 'User:fraud-producer')
    .option('--subscriber <principal>', 'the principal that reads the alerts', 'User:fraud-subscriber')
    .option('--subscriber-group <group>', "the subscriber's consumer group", 'fraud-alerts-subscriber')
    .option('--commands', "print Kafka's kafka-acls commands instead of the table", false)
    .option('--apply', 'add them with kafka-acls, connecting with this configuration (an admin principal: KAFKA_SASL_USERNAME, …)', false)
    .option('--kafka-acls <path>', "Kafka's kafka-acls tool (scripts/services.sh up --secure writes one to .local/kafka/bin/kafka-acls.sh)", 'kafka-acls.sh')
    .action(async (flags: TopicsAclsFlags) => {
      const config = configWith({});
      const principals: AclPrincipals = { detector: principal('--detector', flags.detector), producer: principal('--producer', flags.producer), subscriber: principal('--subscriber', flags.subscriber), subscriberGroup: flags.subscriberGroup };
      const plan = aclPlan(config, principals);
      if (flags.apply) {
        await applyAcls(config, plan, flags.kafkaAcls, (line) => console.log(`adding: ${line}`));
        console.log(`added ${plan.length} ACLs`);
      } else if (flags.commands) {
        for (const line of printableCommands(config, plan, flags.kafkaAcls)) console.log(line);
      } else {
        for (const line of aclTable(plan)) console.log(line);
      }
    });
}

function principal(flag: string, value: string): string {
  if (!/^[A-Za-z]+:.+$/.test(value)) throw new Error(`${flag}: expected a Kafka principal such as User:fraud-detector, got ${value}`);
  return value;
}
