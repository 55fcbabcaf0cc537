// `topics create` against the real broker: the replication factor and min.insync.replicas it
// is given land on the topics (read back from the broker), and without them the broker's
// defaults apply. The fault suite checks the same on its 3-broker cluster (RF 3, min ISR 2).
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { topicConfigs } from '../helpers/kafka-tools.js';
import { deleteTopics, KAFKA_BROKERS, uniqueName } from '../helpers/services.js';

function topicsEnv(id: string): Record<string, string> {
  return { KAFKA_BROKERS: KAFKA_BROKERS.join(','), TOPIC_TRANSACTIONS: `${id}-tx`, TOPIC_ALERTS: `${id}-alerts`, TOPIC_DECISIONS: `${id}-decisions`, TOPIC_DLQ: `${id}-dlq`, TOPIC_LABELS: `${id}-labels`, TRANSACTIONS_PARTITIONS: '2' };
}

async function replicationFactors(topics: string[]): Promise<number[]> {
  const admin = new KafkaJS.Kafka({ 'bootstrap.servers': KAFKA_BROKERS.join(','), log_level: 0 }).admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics });
    return metadata.flatMap((t) => t.partitions.map((p) => p.replicas.length));
  } finally {
    await admin.disconnect();
  }
}

describe('topics create', () => {
  const created: string[] = [];
  afterAll(() => deleteTopics(created));

  it('sets the replication factor and min.insync.replicas from its flags, as topic configs', async () => {
    const env = topicsEnv(uniqueName('topics'));
    const cli = runCli(['topics', 'create', '--replication-factor', '1', '--min-insync-replicas', '1'], env);
    expect(await cli.exited, cli.output()).toBe(0);
    const topics = [env.TOPIC_TRANSACTIONS, env.TOPIC_ALERTS, env.TOPIC_DECISIONS, env.TOPIC_DLQ, env.TOPIC_LABELS] as string[];
    created.push(...topics);
    expect(cli.output()).toContain(`created  ${env.TOPIC_TRANSACTIONS} (2 partitions, replication factor 1, min.insync.replicas=1 when created)`);
    expect(await replicationFactors(topics)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    // Every topic gets the same configs (test/unit/topic-plan.test.ts); each JVM run costs 2-3 s.
    for (const topic of [env.TOPIC_TRANSACTIONS, env.TOPIC_DLQ] as string[]) expect(await topicConfigs(KAFKA_BROKERS[0] as string, topic)).toEqual({ 'min.insync.replicas': '1' });
  });

  it("takes them from TOPIC_REPLICATION_FACTOR and TOPIC_MIN_INSYNC_REPLICAS, else leaves the broker's defaults", async () => {
    const configured = topicsEnv(uniqueName('topics'));
    const a = runCli(['topics', 'create'], { ...configured, TOPIC_REPLICATION_FACTOR: '1', TOPIC_MIN_INSYNC_REPLICAS: '1' });
    expect(await a.exited, a.output()).toBe(0);
    created.push(configured.TOPIC_TRANSACTIONS as string, configured.TOPIC_ALERTS as string, configured.TOPIC_DECISIONS as string, configured.TOPIC_DLQ as string, configured.TOPIC_LABELS as string);
    expect(await topicConfigs(KAFKA_BROKERS[0] as string, configured.TOPIC_TRANSACTIONS as string)).toEqual({ 'min.insync.replicas': '1' });

    const plain = topicsEnv(uniqueName('topics'));
    const b = runCli(['topics', 'create'], plain);
    expect(await b.exited, b.output()).toBe(0);
    created.push(plain.TOPIC_TRANSACTIONS as string, plain.TOPIC_ALERTS as string, plain.TOPIC_DECISIONS as string, plain.TOPIC_DLQ as string, plain.TOPIC_LABELS as string);
    expect(b.output()).toContain("replication factor the broker's default");
    expect(await topicConfigs(KAFKA_BROKERS[0] as string, plain.TOPIC_TRANSACTIONS as string)).toEqual({});
  });

  it('refuses a min.insync.replicas above the replication factor before touching the broker', async () => {
    const env = topicsEnv(uniqueName('topics'));
    const cli = runCli(['topics', 'create', '--replication-factor', '1', '--min-insync-replicas', '2'], env);
    expect(await cli.exited).not.toBe(0);
    expect(cli.output()).toMatch(/TOPIC_MIN_INSYNC_REPLICAS must be at most TOPIC_REPLICATION_FACTOR/);
  });
});
