// The secured Redis the tests run against: the TLS-only, password-protected Cluster that
// `scripts/services.sh up --redis-cluster-secure` starts (its settings from the file it
// writes), a private TLS-only single Redis made from the same local CA, and TLS material from
// a CA the servers have never heard of.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { connectRedis } from '../../src/features/redis/connect.js';
import { redisTarget } from '../../src/features/redis/target.js';
import { freePort, killNow } from './redis-server.js';

const LOCAL_DIR = process.env.FD_LOCAL_DIR ?? join(import.meta.dirname, '..', '..', '.local');
export const SECURE_CLUSTER_ENV_FILE = join(LOCAL_DIR, 'redis-cluster-secure.env');

/** The detector's settings for the secured Cluster, as services.sh wrote them (REDIS_CLUSTER_NODES, REDIS_TLS_*, REDIS_USERNAME, REDIS_PASSWORD_FILE). */
export function secureClusterEnv(): Record<string, string> {
  if (!existsSync(SECURE_CLUSTER_ENV_FILE)) throw new Error(`${SECURE_CLUSTER_ENV_FILE} is missing: start the secured cluster with scripts/services.sh up --redis-cluster-secure`);
  const lines = readFileSync(SECURE_CLUSTER_ENV_FILE, 'utf8').split('\n').filter((l) => /^[A-Z_]+=/.test(l));
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

export function secret(file: string): string {
  return readFileSync(file, 'utf8').trim();
}

/** A CA of its own with a certificate it issued for localhost (as a server or a client would present it). */
export function strangerTls(): { ca: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fd-stranger-ca-'));
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ca.key');
  ssl('req', '-x509', '-new', '-key', 'ca.key', '-days', '2', '-subj', '/CN=stranger CA', '-out', 'ca.crt');
  ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'leaf.key');
  ssl('req', '-new', '-key', 'leaf.key', '-subj', '/CN=localhost', '-out', 'leaf.csr');
  writeFileSync(join(dir, 'ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  ssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', '1', '-days', '2', '-extfile', 'ext', '-out', 'leaf.crt');
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'leaf.crt'), key: join(dir, 'leaf.key') };
}

/**
 * A private single Redis that speaks only TLS, with the secured Cluster's server certificate
 * and CA, and the same ACL user and password; its settings in the detector's variable names.
 */
export class PrivateTlsRedis {
  private child: ChildProcess | null = null;
  readonly env: Record<string, string>;

  private constructor(readonly port: number, private readonly conf: string, cluster: Record<string, string>) {
    this.env = { ...cluster, REDIS_URL: `rediss://127.0.0.1:${port}` };
    delete this.env.REDIS_CLUSTER_NODES;
  }

  static async start(): Promise<PrivateTlsRedis> {
    const cluster = secureClusterEnv();
    const tls = dirname(cluster.REDIS_TLS_CA_FILE as string);
    const dir = mkdtempSync(join(tmpdir(), 'fd-redis-tls-'));
    const port = await freePort();
    const conf = join(dir, 'redis.conf');
    writeFileSync(conf, [
      'bind 127.0.0.1', 'port 0', `tls-port ${port}`, `dir ${dir}`, 'save ""', 'appendonly no', 'tls-auth-clients optional',
      `tls-cert-file ${join(tls, 'redis-server.crt')}`, `tls-key-file ${join(tls, 'redis-server.key')}`, `tls-ca-cert-file ${cluster.REDIS_TLS_CA_FILE as string}`,
      'user default off', `user ${cluster.REDIS_USERNAME as string} on >${secret(cluster.REDIS_PASSWORD_FILE as string)} ~* &* +@all`,
    ].join('\n'), { mode: 0o600 });
    const redis = new PrivateTlsRedis(port, conf, cluster);
    await redis.run();
    return redis;
  }

  private async run(): Promise<void> {
    this.child = spawn('redis-server', [this.conf], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const client = connectRedis(redisTarget(loadConfig(this.env)));
      try {
        if ((await client.ping()) === 'PONG') return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        client.disconnect();
      }
    }
    throw new Error(`TLS redis-server on port ${this.port} did not start`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    await killNow(child);
  }
}
