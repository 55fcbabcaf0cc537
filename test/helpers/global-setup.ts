// Runs once before the test files: when Kafka is up, joins a consumer group and commits
// once, so the broker has created and loaded __consumer_offsets before many test files
// join their own groups at the same moment (on a freshly formatted broker).
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { KAFKA_BROKERS, consumeAll, createTopics, deleteTopics, produce, uniqueName } from './services.js';

export async function setup(): Promise<void> {
  const probe = new KafkaJS.Kafka({ 'bootstrap.servers': KAFKA_BROKERS.join(','), log_level: 0 }).admin();
  try {
    // connect() alone does not reach a broker; listing topics does.
    await probe.connect();
    await probe.listTopics({ timeout: 3000 });
  } catch {
    await probe.disconnect().catch(() => undefined);
    console.warn(`[global-setup] Kafka not reachable at ${KAFKA_BROKERS.join(',')}: integration tests will fail (start it with scripts/services.sh up)`);
    return;
  }
  await probe.disconnect();
  const topic = uniqueName('warm-up');
  await createTopics([{ topic, partitions: 1 }]);
  await produce(topic, [{ key: 'k', value: 'v' }]);
  await consumeAll(topic, 1, 60_000);
  await deleteTopics([topic]);
}
