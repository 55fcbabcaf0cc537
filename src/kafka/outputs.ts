// Where a batch's results go: alerts (review and block) and, when emitted, every decision to
// their topics, malformed inputs to the dead-letter topic; sent in one produce call that
// resolves once Kafka acknowledged every message (acks=all, idempotent producer).
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { decisionJson } from '../contract/decision-json.js';
import { KafkaError } from '../contract/errors.js';
import type { Decided, Rejected } from '../pipeline/process-batch.js';
import type { Producer } from './client.js';
import { deadLetter, type OutgoingMessage, type SourceRecord } from './dlq.js';

export interface OutputTopics {
  alerts: string;
  decisions: string;
  dlq: string;
}

type Batch = KafkaJS.EachBatchPayload['batch'];
type Message = Batch['messages'][number];

/** The messages a batch's decisions and rejections produce, per topic (empty topics left out). */
/** `dlqMaxValueBytes`: a dead letter's value is cut to this (dlq.ts). */
export function batchOutputs(batch: Batch, decided: readonly Decided[], rejected: readonly Rejected[], topics: OutputTopics, emitDecisions: boolean, dlqMaxValueBytes?: number, now = Date.now()): KafkaJS.TopicMessages[] {
  const alerts: OutgoingMessage[] = [];
  const decisions: OutgoingMessage[] = [];
  for (const d of decided) {
    const alert = d.outcome !== 'allow';
    if (d.decision === null || (!alert && !emitDecisions)) continue; // most decisions are allows that nobody subscribed to
    const msg = { key: d.decision.accountId, value: decisionJson(d.decision, (batch.messages[d.index] as Message).value) };
    if (alert) alerts.push(msg);
    if (emitDecisions) decisions.push(msg);
  }
  const dlq = rejected.map(({ index, error }) => {
    const m = batch.messages[index] as Message;
    const source: SourceRecord = { topic: batch.topic, partition: batch.partition, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value };
    return deadLetter(source, error, now, dlqMaxValueBytes);
  });
  return [
    { topic: topics.alerts, messages: alerts },
    { topic: topics.decisions, messages: decisions },
    { topic: topics.dlq, messages: dlq },
  ].filter((t) => t.messages.length > 0);
}

/** librdkafka's RD_KAFKA_RESP_ERR__MSG_TIMED_OUT: not acknowledged within message.timeout.ms. */
const ERR_MSG_TIMED_OUT = -192;
/** librdkafka's RD_KAFKA_RESP_ERR__FATAL. */
const ERR_FATAL = -150;

/** Produces the messages; resolves once Kafka acknowledged all of them, else throws KafkaError. */
export async function sendOutputs(producer: Producer, topicMessages: KafkaJS.TopicMessages[]): Promise<void> {
  if (topicMessages.length === 0) return;
  try {
    await producer.sendBatch({ topicMessages });
  } catch (err) {
    const e = err as { message?: string; code?: number; retriable?: boolean; fatal?: boolean };
    // A timeout means the brokers did not take the writes in time (down, or too few in sync): worth waiting out.
    const timedOut = e.code === ERR_MSG_TIMED_OUT || /timed out/i.test(e.message ?? '');
    // A fatal error (librdkafka's ERR__FATAL: the idempotent producer cannot go on) is never
    // retried: every later send on this producer fails the same way.
    const fatal = e.fatal === true || e.code === ERR_FATAL;
    throw new KafkaError(`produce failed: ${e.message ?? String(err)}`, { retriable: !fatal && (timedOut || e.retriable !== false), fatal, cause: err });
  }
}
