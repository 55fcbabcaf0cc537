// An example subscriber to `fraud-alerts`: what a team acting on the detector's output runs.
// It reads alerts in its own consumer group, checks each against the published schema,
// skips one it has already acted on (delivery is at least once: after a crash the detector
// may emit an alert again), acts on the decision, and commits only after acting.
//
//   node examples/alert-subscriber.mjs            (KAFKA_BROKERS, TOPIC_ALERTS, SUBSCRIBER_GROUP)
//
// Each action is printed as one JSON line; replace act() with your case tool, your card
// processor's block call, a message to the customer. The ids acted on are kept in memory
// here; a production subscriber keeps them where its actions are recorded (or makes each
// action idempotent), so a restart does not act twice either.
import { readFileSync } from 'node:fs';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const topic = process.env.TOPIC_ALERTS ?? 'fraud-alerts';
const group = process.env.SUBSCRIBER_GROUP ?? 'fraud-alert-subscriber';
const schema = JSON.parse(readFileSync(new URL('../schemas/decision.schema.json', import.meta.url), 'utf8'));
const ajv = new Ajv2020({ allowUnionTypes: true });
addFormats(ajv);
const valid = ajv.compile(schema);

/** Transaction ids already acted on, the most recent 100,000 (a Map keeps insertion order). */
const seen = new Map();
function firstTime(id) {
  if (seen.has(id)) return false;
  seen.set(id, true);
  if (seen.size > 100_000) seen.delete(seen.keys().next().value);
  return true;
}

function act(alert) {
  const base = { transactionId: alert.transactionId, accountId: alert.accountId, score: alert.score, reasons: alert.topReasons };
  if (alert.decision === 'block') return { action: 'block-card', cardId: alert.event.cardId ?? null, ...base };
  return { action: 'open-case', ...base };
}

const kafka = new KafkaJS.Kafka({ 'bootstrap.servers': brokers, 'client.id': group, log_level: 3 });
// read_committed: with PROCESSING_GUARANTEE=exactly-once, alerts of aborted transactions are never seen.
const consumer = kafka.consumer({ 'group.id': group, 'enable.auto.commit': false, 'auto.offset.reset': 'earliest', 'isolation.level': 'read_committed' });
await consumer.connect();
await consumer.subscribe({ topics: [topic] });
const stop = async () => {
  await consumer.disconnect();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
console.error(`[subscriber] reading ${topic} as ${group}`);
await consumer.run({
  eachMessage: async ({ topic: t, partition, message }) => {
    let alert;
    try {
      alert = JSON.parse(message.value?.toString('utf8') ?? '');
    } catch {
      alert = null;
    }
    if (alert === null || !valid(alert)) {
      console.log(JSON.stringify({ action: 'skip-invalid', offset: message.offset, error: ajv.errorsText(valid.errors) }));
    } else if (!firstTime(alert.transactionId)) {
      console.log(JSON.stringify({ action: 'skip-duplicate', transactionId: alert.transactionId }));
    } else if (alert.decision === 'review' || alert.decision === 'block') {
      console.log(JSON.stringify(act(alert)));
    }
    await consumer.commitOffsets([{ topic: t, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
  },
});
