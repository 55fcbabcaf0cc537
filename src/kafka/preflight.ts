// Before a worker joins its groups: do the brokers accept this client (TLS, credentials), and may
// its principal use the topics and the group? A refusal fails the start saying which and why
// (never with a secret); a cluster that does not answer does not, the worker waits for it.
import type { KafkaJS } from '@confluentinc/kafka-javascript';
import { KafkaError } from '../contract/errors.js';
import { createListeningAdmin, type KafkaSettings } from './client.js';

export interface AccessNeeds {
  topics: readonly string[];
  groups: readonly string[];
}

/** librdkafka's error codes for a topic or group the principal is not authorized on. */
const TOPIC_AUTHORIZATION_FAILED = 29;
const GROUP_AUTHORIZATION_FAILED = 30;

/**
 * Resolves when the cluster let this client in and its principal may describe each topic and
 * group (or when the cluster did not answer within `timeoutMs`: not a refusal). Rejects with a
 * KafkaError when the brokers refused the TLS handshake or the credentials, or an authorization.
 */
export async function checkKafkaAccess(settings: KafkaSettings, needs: AccessNeeds, timeoutMs = 10_000): Promise<'checked' | 'unanswered'> {
  let refuse: (err: KafkaError) => void = () => undefined;
  const refused = new Promise<never>((_, reject) => (refuse = reject));
  const admin = createListeningAdmin(settings, listener((line) => {
    const err = refusalIn(line, settings);
    if (err !== null) refuse(err);
  }));
  const timeout = new Promise<'unanswered'>((resolve) => setTimeout(resolve, timeoutMs, 'unanswered').unref());
  const work = checkAll(admin, settings, needs, timeoutMs);
  // The admin client is let go once its calls have settled: a disconnect waits for them anyway,
  // and a refusal seen in its log (within a second) need not wait for their timeouts.
  void work.catch(() => undefined).finally(() => void admin.disconnect().catch(() => undefined));
  try {
    return await Promise.race([work, refused, timeout]);
  } finally {
    refuse = () => undefined;
  }
}

async function checkAll(admin: KafkaJS.Admin, settings: KafkaSettings, needs: AccessNeeds, timeoutMs: number): Promise<'checked' | 'unanswered'> {
  await admin.connect();
  const who = principal(settings);
  for (const topic of needs.topics) {
    const code = await admin.fetchTopicMetadata({ topics: [topic], timeout: timeoutMs }).then(() => 0, (err: unknown) => codeOf(err));
    if (code === TOPIC_AUTHORIZATION_FAILED) throw denied(`${who} is not authorized on topic ${topic}`);
  }
  if (needs.groups.length > 0) {
    const { groups } = await admin.describeGroups([...needs.groups], { timeout: timeoutMs }).catch((err: unknown) => {
      if (codeOf(err) === GROUP_AUTHORIZATION_FAILED) throw denied(`${who} is not authorized on group ${needs.groups.join(', ')}`);
      return { groups: [] };
    });
    const refusedGroup = groups.find((g) => codeOf(g.error) === GROUP_AUTHORIZATION_FAILED);
    if (refusedGroup !== undefined) throw denied(`${who} is not authorized on group ${refusedGroup.groupId}`);
  }
  return 'checked';
}

function denied(what: string): KafkaError {
  return new KafkaError(`${what}: the broker's authorizer refused it (see \`fraud-detector topics acls\` for the ACLs the detector needs)`, { retriable: false, fatal: true });
}

function codeOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

function principal(settings: KafkaSettings): string {
  const user = settings.security['sasl.username'];
  return user !== undefined ? `principal User:${user}` : 'this client';
}

/** A client log line that says the brokers refused this client, as an error; null for any other line. */
export function refusalIn(line: string, settings: KafkaSettings): KafkaError | null {
  const reason = line.replace(/^\[thrd:[^\]]*\]: /, '').replace(/\s*\(after \d+ms in state [^)]*\)\s*$/, '');
  const secret = settings.security['sasl.password'];
  const safe = (text: string): string => (secret !== undefined && secret.length > 0 ? text.split(secret).join('***') : text);
  const sasl = /SASL authentication error: (.*)$/.exec(reason);
  if (sasl?.[1] !== undefined) {
    const who = `${settings.security['sasl.username'] ?? '(no user)'} with ${settings.security['sasl.mechanisms'] ?? 'SASL'}`;
    return new KafkaError(`Kafka refused the credentials of ${who} (KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD_FILE or KAFKA_SASL_PASSWORD): ${safe(sasl[1])}`, { retriable: false, fatal: true });
  }
  const tls = /(?:SSL handshake failed: )?(error:[0-9A-F]+:SSL routines::.*)$/.exec(reason);
  if (tls?.[1] !== undefined) {
    const ca = settings.security['ssl.ca.location'] ?? "the system's CAs";
    return new KafkaError(`TLS with the broker failed (its certificate checked against ${ca}, KAFKA_SSL_CA_LOCATION; client certificate KAFKA_SSL_CERTIFICATE_LOCATION): ${safe(tls[1])}`, { retriable: false, fatal: true });
  }
  return null;
}

/** A KafkaJS-style logger that hands every error and warning line to `onLine`, and prints nothing. */
function listener(onLine: (line: string) => void): KafkaJS.Logger {
  const logger: KafkaJS.Logger = {
    info: () => undefined,
    debug: () => undefined,
    warn: (message) => onLine(message),
    error: (message) => onLine(message),
    namespace: () => logger,
    setLogLevel: () => undefined,
  };
  return logger;
}
