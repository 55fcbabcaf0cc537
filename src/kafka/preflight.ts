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

/** The broker's answers that end a question (librdkafka's codes); any other is asked again until the deadline. */
const TOPIC_AUTHORIZATION_FAILED = 29;
const GROUP_AUTHORIZATION_FAILED = 30;
const UNKNOWN_TOPIC_OR_PARTITION = 3;
/** Each question's own timeout: short, so that a refusal seen in the log ends the check within it. */
const ASK_MS = 1000;

/**
 * Resolves when the cluster let this client in and its principal may describe each topic and
 * group, or when the cluster did not answer within `timeoutMs` (not a refusal). Rejects with a
 * KafkaError when the brokers refused the TLS handshake or the credentials, or an authorization.
 */
export async function checkKafkaAccess(settings: KafkaSettings, needs: AccessNeeds, timeoutMs = 10_000): Promise<'checked' | 'unanswered'> {
  let refusal: KafkaError | null = null;
  const admin = createListeningAdmin(settings, listener((line) => (refusal ??= refusalIn(line, settings))));
  const deadline = Date.now() + timeoutMs;
  /** Asks until an answer that ends the question: its error code (0: allowed), or null at the deadline. */
  const answer = async (ask: () => Promise<unknown>): Promise<number | null> => {
    for (;;) {
      const code = await ask().then(() => 0, (err: unknown) => codeOf(err) ?? -1);
      if (refusal !== null) throw refusal;
      if (code >= 0) return code;
      if (Date.now() >= deadline) return null;
    }
  };
  try {
    await admin.connect();
    const who = principal(settings);
    for (const topic of needs.topics) {
      const code = await answer(() => admin.fetchTopicMetadata({ topics: [topic], timeout: ASK_MS }));
      if (code === null) return 'unanswered';
      if (code === TOPIC_AUTHORIZATION_FAILED) throw denied(`${who} is not authorized on topic ${topic}`);
      if (code !== 0 && code !== UNKNOWN_TOPIC_OR_PARTITION) throw new KafkaError(`describing topic ${topic} failed with error ${code}`, { retriable: true, fatal: false });
    }
    for (const groupId of needs.groups) {
      let refusedGroup = false;
      const code = await answer(async () => {
        const { groups } = await admin.describeGroups([groupId], { timeout: ASK_MS });
        refusedGroup = groups.some((g) => codeOf(g.error) === GROUP_AUTHORIZATION_FAILED);
      });
      if (code === null) return 'unanswered';
      if (refusedGroup || code === GROUP_AUTHORIZATION_FAILED) throw denied(`${who} is not authorized on group ${groupId}`);
    }
    return 'checked';
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
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
    // An alert is the broker's answer: it did not accept this client's certificate (or its absence).
    if (/alert/.test(tls[1])) {
      const cert = settings.security['ssl.certificate.location'] ?? 'none given';
      return new KafkaError(`the broker refused this client's certificate (KAFKA_SSL_CERTIFICATE_LOCATION: ${cert}): ${safe(tls[1])}`, { retriable: false, fatal: true });
    }
    const ca = settings.security['ssl.ca.location'] ?? "the system's CAs";
    return new KafkaError(`the broker's certificate was refused (checked against ${ca}, KAFKA_SSL_CA_LOCATION): ${safe(tls[1])}`, { retriable: false, fatal: true });
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
