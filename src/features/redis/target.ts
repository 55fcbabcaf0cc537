// Where the feature store's Redis is and how to reach it safely: the configuration's address,
// credentials and TLS files, resolved once at start into plain data (it crosses to the store thread).
import { redisTlsOn, type Config } from '../../config.js';
import { ConfigError } from '../../contract/errors.js';
import { keyMatches, readPem as pem } from '../../pem-file.js';

/** TLS to every server; certificates are always verified, the server's name included. */
export interface RedisTls {
  /** PEM of the CAs the servers' certificates must chain to; absent: Node's bundled roots. */
  ca?: string;
  /** PEM certificate and key this client presents (mutual TLS); both or neither. */
  cert?: string;
  key?: string;
  /** The name the servers' certificates must carry, when it is not the address connected to. */
  servername?: string;
}

export interface RedisTarget {
  /** A single Redis, with no credentials in it (they are in `username` and `password`). */
  url: string;
  /** `host:port` seeds; when given, the store talks to a Redis Cluster instead of `url`. */
  clusterNodes?: readonly string[];
  username?: string;
  password?: string;
  /** Present: TLS on, for the single Redis and every Cluster node alike. */
  tls?: RedisTls;
}

/**
 * The target the configuration describes. Credentials: REDIS_USERNAME and REDIS_PASSWORD(_FILE)
 * win, each on its own, over those in REDIS_URL; they apply to a Cluster too, whose addresses
 * come from REDIS_CLUSTER_NODES. A TLS file that cannot be used fails here, naming its variable.
 */
export function redisTarget(config: Config): RedisTarget {
  const url = new URL(config.REDIS_URL);
  const username = config.REDIS_USERNAME ?? (decodeURIComponent(url.username) || undefined);
  const password = config.REDIS_PASSWORD ?? (decodeURIComponent(url.password) || undefined);
  url.username = '';
  url.password = '';
  const target: RedisTarget = { url: url.href };
  if (config.REDIS_CLUSTER_NODES !== undefined) target.clusterNodes = config.REDIS_CLUSTER_NODES;
  if (username !== undefined) target.username = username;
  if (password !== undefined) target.password = password;
  if (redisTlsOn(config)) target.tls = tlsFiles(config);
  return target;
}

function tlsFiles(config: Config): RedisTls {
  const tls: RedisTls = {};
  if (config.REDIS_TLS_CA_FILE !== undefined) tls.ca = pem('REDIS_TLS_CA_FILE', config.REDIS_TLS_CA_FILE, 'certificate');
  if (config.REDIS_TLS_CERT_FILE !== undefined && config.REDIS_TLS_KEY_FILE !== undefined) {
    tls.cert = pem('REDIS_TLS_CERT_FILE', config.REDIS_TLS_CERT_FILE, 'certificate');
    tls.key = pem('REDIS_TLS_KEY_FILE', config.REDIS_TLS_KEY_FILE, 'private key');
    if (!keyMatches(tls.cert, tls.key)) {
      throw new ConfigError(`REDIS_TLS_KEY_FILE: ${config.REDIS_TLS_KEY_FILE} is not the key of the certificate in REDIS_TLS_CERT_FILE`);
    }
  }
  if (config.REDIS_TLS_SERVERNAME !== undefined) tls.servername = config.REDIS_TLS_SERVERNAME;
  return tls;
}
