// The secured stack of `scripts/services.sh up --secure`: each principal's settings as the
// script wrote them (.local/secure*.env), its passwords, and Kafka clients built from settings
// the way the detector builds its own, with their log lines kept for the test to read.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { pino } from 'pino';
import { CONFIG_KEYS, loadConfig } from '../../src/config.js';
import { createConsumer, kafkaSettings, type KafkaSettings } from '../../src/kafka/client.js';

export const LOCAL_DIR = process.env.FD_LOCAL_DIR ?? join(import.meta.dirname, '..', '..', '.local');
export const KAFKA_ACLS_TOOL = join(LOCAL_DIR, 'kafka', 'bin', 'kafka-acls.sh');

export type Role = 'worker' | 'admin' | 'producer' | 'subscriber';

/**
 * A principal's settings, in the detector's variable names: the file's, and every other Kafka and
 * Redis setting empty (unset), so that none is inherited from the test's environment (CI's
 * services.env names the plain Redis Cluster, for one).
 */
export function secureEnv(role: Role): Record<string, string> {
  const file = join(LOCAL_DIR, role === 'worker' ? 'secure.env' : `secure-${role}.env`);
  if (!existsSync(file)) throw new Error(`${file} is missing: start the secured stack with scripts/services.sh up --secure`);
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => /^[A-Z_]+=/.test(l));
  const unset = Object.fromEntries(CONFIG_KEYS.filter((k) => /^(KAFKA|REDIS)_/.test(k)).map((k) => [k, '']));
  return { ...unset, ...Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])) };
}

/** The settings of the principal that has no ACL at all. */
export function outsiderEnv(): Record<string, string> {
  return { ...secureEnv('admin'), KAFKA_SASL_USERNAME: 'fd-outsider', KAFKA_SASL_PASSWORD_FILE: join(LOCAL_DIR, 'secrets', 'kafka-fd-outsider.password') };
}

/** Every password the local services were given (Kafka's users, Redis's), to look for in output. */
export function allSecrets(): string[] {
  const dir = join(LOCAL_DIR, 'secrets');
  return readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8').trim()).filter((s) => s.length > 0);
}

/** Kafka settings for an environment, with the clients' log lines collected in `lines`. */
export function clientFor(env: Record<string, string>): { settings: KafkaSettings; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => { lines.push(chunk.toString()); done(); } });
  return { settings: { ...kafkaSettings(loadConfig(env)), logger: pino({ level: 'debug' }, sink) }, lines };
}

/**
 * Sends one record with a producer that is not idempotent (an idempotent one is refused a
 * producer id first, with a fatal error that does not say why): `sent`, or the broker's refusal.
 */
export async function tryProduce(env: Record<string, string>, topic: string): Promise<string> {
  const { settings } = clientFor(env);
  const producer = new KafkaJS.Kafka({ 'bootstrap.servers': settings.brokers.join(','), log_level: 0, ...settings.security }).producer({ 'enable.idempotence': false, acks: -1, 'message.timeout.ms': 10_000 });
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ value: 'probe' }] });
    return 'sent';
  } catch (err) {
    return (err as Error).message;
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

/** Reads the topic in `groupId` for `ms`; what it received and what its client logged. */
export async function tryConsume(env: Record<string, string>, topic: string, groupId: string, ms: number): Promise<{ received: number; log: string }> {
  const { settings, lines } = clientFor(env);
  const consumer = createConsumer(settings, { groupId, maxBatchSize: 100 });
  let received = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    void consumer.run({ eachBatch: ({ batch }) => { received += batch.messages.length; return Promise.resolve(); } }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, ms));
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return { received, log: lines.join('') };
}

export interface ReadRecord {
  value: string;
  headers: Record<string, string>;
}

/** Reads `topic` from the beginning in `groupId` until `count` records arrived or `timeoutMs` passed. */
export async function readAs(env: Record<string, string>, topic: string, groupId: string, count: number, timeoutMs = 60_000): Promise<ReadRecord[]> {
  const consumer = createConsumer(clientFor(env).settings, { groupId, maxBatchSize: 1000, startAt: 'earliest' });
  const out: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    void consumer.run({
      eachBatch: ({ batch }) => {
        for (const m of batch.messages) {
          const headers = Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, String(v)]));
          out.push({ value: m.value?.toString() ?? '', headers });
        }
        if (out.length >= count) done();
        return Promise.resolve();
      },
    }).catch(() => undefined);
    const timer = setTimeout(done, timeoutMs);
    await finished;
    clearTimeout(timer);
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return out;
}
