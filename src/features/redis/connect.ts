// Opens the ioredis client for the feature store: a single Redis from a URL, or a Redis Cluster;
// either with the same credentials and TLS (see target.ts).
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { explainFailures } from './readiness.js';
import { RedisClientError, redisError } from './redis-errors.js';
import type { RedisTarget, RedisTls } from './target.js';
import { probeTls } from './tls-probe.js';

export type { RedisTarget } from './target.js';

/** `onError` hears connection errors, secret-free (the worker's retry loop reports their effect). */
export function connectRedis(target: RedisTarget, onError: (err: Error) => void = () => undefined): Redis | Cluster {
  // Fail commands fast while disconnected: the worker's own retry loop backs off and reports not-ready.
  const common: RedisOptions = { maxRetriesPerRequest: 2, enableAutoPipelining: true, connectTimeout: 5000 };
  if (target.username !== undefined) common.username = target.username;
  if (target.password !== undefined) common.password = target.password;
  if (target.tls !== undefined) common.tls = tlsOptions(target.tls);
  const client = target.clusterNodes && target.clusterNodes.length > 0
    ? new Cluster(target.clusterNodes.map(hostPort), {
      // No auto-pipelining here: ioredis refuses to auto-pipeline scripts across hash slots.
      redisOptions: { ...common, enableAutoPipelining: false },
      // ioredis resolves seed names to addresses before it connects, so TLS would check the
      // certificate against an address: with TLS, connect to the names as given.
      ...(target.tls !== undefined ? { dnsLookup: keepName } : {}),
    })
    : new Redis(target.url, common);
  client.on('error', (err: unknown) => onError(redisError(err, [target.password])));
  explainFailures(client, (err) => diagnose(err, target, common.tls));
  return client;
}

/** The error a failed connection attempt gives the calls waiting for it, with the TLS reason ioredis lost. */
async function diagnose(err: unknown, target: RedisTarget, tls: ConnectionOptions | undefined): Promise<RedisClientError> {
  const safe = redisError(err, [target.password]);
  if (!closedWithoutReason(err)) return safe;
  const first = target.clusterNodes?.[0];
  const { host, port } = first !== undefined ? hostPort(first) : urlHostPort(target.url);
  const why = await probeTls(host, port, tls);
  return why === undefined ? safe : new RedisClientError(safe.name, `${safe.message}: ${why}`, safe.code);
}

function closedWithoutReason(err: unknown): boolean {
  const e = err as { message?: unknown; code?: unknown; lastNodeError?: { message?: unknown } };
  const message = e.lastNodeError?.message ?? e.message;
  return message === 'Connection is closed.' || e.code === 'ECONNRESET' || e.code === 'EPIPE';
}

function tlsOptions(tls: RedisTls): ConnectionOptions {
  // Never rejectUnauthorized: false; Node checks the chain and the name (servername, else the host).
  const options: ConnectionOptions = { rejectUnauthorized: true };
  if (tls.ca !== undefined) options.ca = tls.ca;
  if (tls.cert !== undefined) options.cert = tls.cert;
  if (tls.key !== undefined) options.key = tls.key;
  if (tls.servername !== undefined) options.servername = tls.servername;
  return options;
}

function hostPort(node: string): { host: string; port: number } {
  const at = node.lastIndexOf(':');
  return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
}

function urlHostPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port: Number(parsed.port || 6379) };
}

function keepName(hostname: string, callback: (err: NodeJS.ErrnoException | null, address: string) => void): void {
  callback(null, hostname);
}
