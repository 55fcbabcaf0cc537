// The only reader of process.env: loads, validates and freezes the detector's configuration.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './contract/errors.js';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number): z.ZodCoercedNumber => z.coerce.number().int().min(min).max(max);
const fraction = z.coerce.number().min(0).max(1);
const hostPort = z.string().regex(/^[^\s,:]+:\d+$/, 'host:port');

/** Every setting, by its environment-variable name, with its default next to it. */
const SHAPE = {
  KAFKA_BROKERS: z
      .string()
      .default('127.0.0.1:9092')
      .transform((s) => s.split(',').map((b) => b.trim()))
      .pipe(z.array(hostPort).min(1)),
  KAFKA_CLIENT_ID: z.string().min(1).default('fraud-detector'),
  /** Any case: `SASL_SSL` and `sasl_ssl` alike. */
  KAFKA_SECURITY_PROTOCOL: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl']))
    .default('plaintext'),
  KAFKA_SASL_MECHANISM: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  /** KAFKA_SASL_PASSWORD_FILE, when set, wins (see SECRET_FILES). */
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD_FILE: z.string().min(1).optional(),
  /** PEM file of the CAs the brokers' certificates must chain to; default: the system's roots. */
  KAFKA_SSL_CA_LOCATION: z.string().min(1).optional(),
  /** PEM certificate and key the client presents (mutual TLS); both or neither. */
  KAFKA_SSL_CERTIFICATE_LOCATION: z.string().min(1).optional(),
  KAFKA_SSL_KEY_LOCATION: z.string().min(1).optional(),
  /** The key's passphrase, when it is encrypted; KAFKA_SSL_KEY_PASSWORD_FILE wins. */
  KAFKA_SSL_KEY_PASSWORD: z.string().min(1).optional(),
  KAFKA_SSL_KEY_PASSWORD_FILE: z.string().min(1).optional(),
  /** `https`: the broker's certificate must name the address connected to. `none` turns that off (logged at start). */
  KAFKA_SSL_ENDPOINT_IDENTIFICATION: z.enum(['https', 'none']).default('https'),
  KAFKA_GROUP_ID: z.string().min(1).default('fraud-detector'),
  /** The labels consumer's own group (default: `<KAFKA_GROUP_ID>-labels`). */
  KAFKA_LABELS_GROUP_ID: z.string().min(1).optional(),
  KAFKA_SESSION_TIMEOUT_MS: int(6000, 300_000).default(15_000),
  KAFKA_MAX_POLL_INTERVAL_MS: int(6000, 3_600_000).default(300_000),
  TOPIC_TRANSACTIONS: z.string().min(1).default('transactions'),
  TOPIC_ALERTS: z.string().min(1).default('fraud-alerts'),
  TOPIC_DECISIONS: z.string().min(1).default('fraud-decisions'),
  TOPIC_DLQ: z.string().min(1).default('transactions-dlq'),
  TOPIC_LABELS: z.string().min(1).default('fraud-labels'),
  TRANSACTIONS_PARTITIONS: int(1, 10_000).default(6),
  /** Replicas per partition for `topics create`; unset: the broker's default.replication.factor. */
  TOPIC_REPLICATION_FACTOR: int(1, 32_767).optional(),
  /** `min.insync.replicas` of the topics `topics create` makes; unset: the broker's default. */
  TOPIC_MIN_INSYNC_REPLICAS: int(1, 32_767).optional(),
  EMIT_DECISIONS: bool.default(false),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'redis://host:port or rediss://host:port')
    .refine((u) => URL.canParse(u), 'a URL: redis://[user:password@]host:port[/db]')
    .default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: z
    .string()
    .optional()
    .transform((s) => (s ? s.split(',').map((n) => n.trim()) : undefined))
    .pipe(z.array(hostPort).min(1).optional()),
  /** The ACL user (default: REDIS_URL's, else Redis's `default`); needs a password. */
  REDIS_USERNAME: z.string().min(1).optional(),
  /** Default: REDIS_URL's. REDIS_PASSWORD_FILE, when set, wins (see SECRET_FILES). */
  REDIS_PASSWORD: z.string().min(1).optional(),
  REDIS_PASSWORD_FILE: z.string().min(1).optional(),
  /** TLS to Redis (or each Cluster node); default: on when REDIS_URL is `rediss://`. */
  REDIS_TLS: bool.optional(),
  /** PEM file of the CAs the servers' certificates must chain to; default: Node's bundled roots. */
  REDIS_TLS_CA_FILE: z.string().min(1).optional(),
  /** PEM certificate and key the client presents (mutual TLS); both or neither. */
  REDIS_TLS_CERT_FILE: z.string().min(1).optional(),
  REDIS_TLS_KEY_FILE: z.string().min(1).optional(),
  /** The name the servers' certificates are checked against, when it is not the address connected to. */
  REDIS_TLS_SERVERNAME: z.string().min(1).optional(),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . -').default('fd'),
  REVIEW_THRESHOLD: fraction.optional(),
  BLOCK_THRESHOLD: fraction.optional(),
  BATCH_MAX_SIZE: int(1, 1_000_000).default(10_000),
  PARTITIONS_CONCURRENCY: int(1, 64).default(2),
  FEATURE_STORE_THREAD: bool.default(true),
  // A decision carries its event, and must fit in a Kafka record (about 1 MB by default).
  MAX_EVENT_BYTES: int(64, 524_288).default(65_536),
  // At most 1,000: JSON.stringify and the validator recurse, and a few thousand levels overflow their stack.
  MAX_EVENT_DEPTH: int(1, 1000).default(32),
  PROCESSING_GUARANTEE: z.enum(['at-least-once', 'exactly-once']).default('at-least-once'),
  COMMIT_INTERVAL_MS: int(0, 60_000).default(100),
  MAX_INFLIGHT_BYTES: int(1_048_576, 4_294_967_296).default(67_108_864),
  KAFKA_CONSUMER_QUEUE_KBYTES: int(1024, 2_097_151).default(32_768),
  KAFKA_PRODUCER_QUEUE_KBYTES: int(1024, 2_147_483_647).default(65_536),
  DLQ_MAX_VALUE_BYTES: int(1024, 100_000_000).default(900_000),
  HEALTH_STALL_MS: int(1000, 86_400_000).default(900_000),
  ALLOWED_LATENESS_MS: int(0, 7 * 86_400_000).default(900_000),
  MAX_FUTURE_SKEW_MS: int(0, 86_400_000).default(300_000),
  MODEL_PATH: z.string().min(1).optional(),
  CHALLENGER_MODEL_PATH: z.string().min(1).optional(),
  MODEL_WATCH: bool.default(true),
  RULES_DIR: z.string().min(1).default('rules'),
  LISTS_DIR: z.string().min(1).optional(),
  RULES_WATCH: bool.default(true),
  RULE_MAX_HIT_RATE: z.coerce.number().gt(0).max(1).optional(),
  RULE_BREAKER_WINDOW: int(10, 10_000_000).default(1000),
  FEATURES_FILE: z.string().min(1).optional(),
  HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  HTTP_PORT: int(0, 65_535).default(9464),
  SHUTDOWN_TIMEOUT_MS: int(1000, 600_000).default(60_000),
  RETRY_MAX_BACKOFF_MS: int(10, 600_000).default(10_000),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
};

/** Secrets that may come from a file (as Kubernetes mounts Secrets): `<NAME>_FILE` wins over `<NAME>`. */
const SECRET_FILES = { REDIS_PASSWORD: 'REDIS_PASSWORD_FILE', KAFKA_SASL_PASSWORD: 'KAFKA_SASL_PASSWORD_FILE', KAFKA_SSL_KEY_PASSWORD: 'KAFKA_SSL_KEY_PASSWORD_FILE' } as const;
/** Settings whose values never appear in an error message. */
const SECRETS: ReadonlySet<string> = new Set(Object.keys(SECRET_FILES));
const kafkaTls = (c: { KAFKA_SECURITY_PROTOCOL: string }): boolean => c.KAFKA_SECURITY_PROTOCOL === 'ssl' || c.KAFKA_SECURITY_PROTOCOL === 'sasl_ssl';

const urlHasPassword = (url: string): boolean => URL.canParse(url) && new URL(url).password !== '';
/** TLS to Redis: REDIS_TLS, else on for a rediss:// REDIS_URL (the same rule for a Cluster). */
export const redisTlsOn = (c: { REDIS_TLS?: boolean | undefined; REDIS_URL: string }): boolean => c.REDIS_TLS ?? c.REDIS_URL.startsWith('rediss://');

export const CONFIG_SCHEMA = z
  .object(SHAPE)
  .refine((c) => c.BLOCK_THRESHOLD === undefined || c.REVIEW_THRESHOLD === undefined || c.BLOCK_THRESHOLD >= c.REVIEW_THRESHOLD, {
    message: 'BLOCK_THRESHOLD must be at least REVIEW_THRESHOLD',
    path: ['BLOCK_THRESHOLD'],
  })
  .refine((c) => c.KAFKA_MAX_POLL_INTERVAL_MS >= c.KAFKA_SESSION_TIMEOUT_MS, {
    message: 'KAFKA_MAX_POLL_INTERVAL_MS must be at least KAFKA_SESSION_TIMEOUT_MS',
    path: ['KAFKA_MAX_POLL_INTERVAL_MS'],
  })
  .refine((c) => c.TOPIC_REPLICATION_FACTOR === undefined || c.TOPIC_MIN_INSYNC_REPLICAS === undefined || c.TOPIC_MIN_INSYNC_REPLICAS <= c.TOPIC_REPLICATION_FACTOR, {
    message: 'TOPIC_MIN_INSYNC_REPLICAS must be at most TOPIC_REPLICATION_FACTOR (no write could ever succeed)',
    path: ['TOPIC_MIN_INSYNC_REPLICAS'],
  })
  .refine((c) => !(c.REDIS_TLS === false && c.REDIS_URL.startsWith('rediss://')), {
    message: 'REDIS_TLS=false contradicts a rediss:// REDIS_URL',
    path: ['REDIS_TLS'],
  })
  .refine((c) => redisTlsOn(c) || [c.REDIS_TLS_CA_FILE, c.REDIS_TLS_CERT_FILE, c.REDIS_TLS_KEY_FILE, c.REDIS_TLS_SERVERNAME].every((v) => v === undefined), {
    message: 'REDIS_TLS_* settings are given but TLS is off: set REDIS_TLS=true (or use a rediss:// REDIS_URL)',
    path: ['REDIS_TLS'],
  })
  .refine((c) => (c.REDIS_TLS_CERT_FILE === undefined) === (c.REDIS_TLS_KEY_FILE === undefined), {
    message: 'a client certificate needs both REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE',
    path: ['REDIS_TLS_CERT_FILE'],
  })
  .refine((c) => c.REDIS_USERNAME === undefined || c.REDIS_PASSWORD !== undefined || urlHasPassword(c.REDIS_URL), {
    message: 'REDIS_USERNAME needs a password (REDIS_PASSWORD_FILE, REDIS_PASSWORD or in REDIS_URL)',
    path: ['REDIS_USERNAME'],
  })
  .refine((c) => !c.KAFKA_SECURITY_PROTOCOL.startsWith('sasl') || (c.KAFKA_SASL_MECHANISM !== undefined && c.KAFKA_SASL_USERNAME !== undefined && c.KAFKA_SASL_PASSWORD !== undefined), {
    message: 'sasl_plaintext and sasl_ssl need KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)',
    path: ['KAFKA_SECURITY_PROTOCOL'],
  })
  .refine((c) => kafkaTls(c) || [c.KAFKA_SSL_CA_LOCATION, c.KAFKA_SSL_CERTIFICATE_LOCATION, c.KAFKA_SSL_KEY_LOCATION, c.KAFKA_SSL_KEY_PASSWORD].every((v) => v === undefined), {
    message: 'KAFKA_SSL_* settings are given but TLS is off: set KAFKA_SECURITY_PROTOCOL to ssl or sasl_ssl',
    path: ['KAFKA_SECURITY_PROTOCOL'],
  })
  .refine((c) => (c.KAFKA_SSL_CERTIFICATE_LOCATION === undefined) === (c.KAFKA_SSL_KEY_LOCATION === undefined), {
    message: 'a client certificate needs both KAFKA_SSL_CERTIFICATE_LOCATION and KAFKA_SSL_KEY_LOCATION',
    path: ['KAFKA_SSL_CERTIFICATE_LOCATION'],
  })
  .refine((c) => c.KAFKA_SSL_KEY_PASSWORD === undefined || c.KAFKA_SSL_KEY_LOCATION !== undefined, {
    message: 'KAFKA_SSL_KEY_PASSWORD is the passphrase of KAFKA_SSL_KEY_LOCATION, which is not set',
    path: ['KAFKA_SSL_KEY_PASSWORD'],
  });

export type Config = Readonly<z.output<typeof CONFIG_SCHEMA>>;
export const CONFIG_KEYS: readonly string[] = Object.keys(SHAPE);

/**
 * Builds the configuration from an optional YAML/JSON file (CONFIG_FILE, keys as the env names)
 * overlaid by environment variables. A wrong value fails here, naming the variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, overrides: Record<string, string> = {}): Config {
  const fromFile = env.CONFIG_FILE ? readConfigFile(env.CONFIG_FILE) : {};
  const raw: Record<string, string> = { ...fromFile };
  for (const key of CONFIG_KEYS) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  Object.assign(raw, overrides);
  readSecretFiles(raw);
  const result = CONFIG_SCHEMA.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      const key = String(i.path[0]);
      return `  ${i.path.join('.') || '(config)'}: ${i.message}${raw[key] !== undefined ? ` (got ${shown(key, raw[key])})` : ''}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(result.data);
}

/** A value as an error message may show it: never a secret, nor a URL's user and password. */
function shown(key: string, value: string): string {
  if (SECRETS.has(key)) return 'a value, not shown';
  return `"${value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, '$1***@')}"`;
}

/** Replaces each `<NAME>_FILE` by the file's content as `<NAME>` (one trailing newline dropped). */
function readSecretFiles(raw: Record<string, string>): void {
  for (const [name, fileKey] of Object.entries(SECRET_FILES)) {
    const file = raw[fileKey];
    if (file === undefined) continue;
    let content: string;
    try {
      content = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(`invalid configuration:\n  ${fileKey}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (content === '') throw new ConfigError(`invalid configuration:\n  ${fileKey}: ${file} is empty`);
    raw[name] = content;
  }
}

function readConfigFile(file: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`CONFIG_FILE ${file}: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`CONFIG_FILE ${file}: expected a mapping of setting names to values`);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!CONFIG_KEYS.includes(key)) throw new ConfigError(`CONFIG_FILE ${file}: unknown setting ${key}`);
    out[key] = String(value);
  }
  return out;
}
