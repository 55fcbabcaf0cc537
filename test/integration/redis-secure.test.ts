// The feature store against Redis secured as a bank's platform team runs it: TLS only (a CA
// file, hostname verification, an optional client certificate) and an ACL user with a
// password from a file; on the 3-master Cluster of `services.sh up --redis-cluster-secure`
// and on a single Redis. Every refusal fails the call at once, saying why, and no password
// appears in an error or a connection-error report.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/cli/build.js';
import { loadConfig } from '../../src/config.js';
import { StoreUnavailableError } from '../../src/contract/errors.js';
import { MemoryFeatureStore } from '../../src/features/memory/memory-store.js';
import { connectRedis } from '../../src/features/redis/connect.js';
import { redisTarget } from '../../src/features/redis/target.js';
import type { FeatureStore } from '../../src/features/store.js';
import { windowSpec } from '../../src/features/windows.js';
import { Cluster } from 'ioredis';
import { PrivateTlsRedis, secret, secureClusterEnv, strangerTls } from '../helpers/secure-redis.js';
import { uniqueName } from '../helpers/services.js';
import { messyStream, richWindows, toBatches } from '../helpers/streams.js';

const windows = richWindows(windowSpec);
const lateness = 600_000;

function without(env: Record<string, string>, ...keys: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !keys.includes(k)));
}

/** The store as `run` builds it (on its own thread), and what its connection-error hook heard. */
function storeFor(env: Record<string, string>, prefix = uniqueName('secure')): { store: FeatureStore; reports: string[] } {
  const reports: string[] = [];
  const store = redisStore(loadConfig({ ...env, REDIS_KEY_PREFIX: prefix, ALLOWED_LATENESS_MS: String(lateness) }), { onError: (err) => reports.push(`${err.name}: ${err.message}`) });
  return { store, reports };
}

/** The store's first call fails within a few seconds; the error, with what was reported meanwhile. */
async function refusal(env: Record<string, string>): Promise<{ error: Error; text: string }> {
  const { store, reports } = storeFor(env);
  const started = Date.now();
  try {
    const error = await store.claim(`${uniqueName('p')}/tx/0`).then(() => new Error('expected the call to fail'), (err: unknown) => err as Error);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    return { error, text: [error.message, error.stack ?? '', ...reports].join('\n') };
  } finally {
    await store.close();
  }
}

async function matchesMemoryStore(store: FeatureStore): Promise<void> {
  const stream = messyStream({ seed: 5, events: 3000, entities: 150, outOfOrder: 0.1, maxDelayMs: 2 * lateness, duplicates: 0.05, startMs: Date.parse('2026-03-01T00:00:00Z'), meanGapMs: 20_000, values: [10, 30] });
  const memory = new MemoryFeatureStore({ allowedLatenessMs: lateness });
  for (let i = 0; i < stream.length; i += 500) {
    const batches = toBatches(stream.slice(i, i + 500), windows);
    expect(await store.observe(batches)).toEqual(await memory.observe(batches));
  }
}

describe('Redis Cluster over TLS with a password', () => {
  const env = secureClusterEnv();
  const password = secret(env.REDIS_PASSWORD_FILE as string);
  const wrong = `wrong-${randomUUID()}`;

  it('serves the feature store on every master, as the in-memory store would, with a client certificate and without', async () => {
    for (const settings of [env, without(env, 'REDIS_TLS_CERT_FILE', 'REDIS_TLS_KEY_FILE')]) {
      const prefix = uniqueName('secure');
      const { store, reports } = storeFor(settings, prefix);
      const admin = connectRedis(redisTarget(loadConfig(settings)));
      try {
        await matchesMemoryStore(store);
        const claimed = await store.claim(`${prefix}/tx/0`);
        expect(claimed.epoch).toBe(1);
        if (!(admin instanceof Cluster)) throw new Error('expected a cluster client');
        await admin.ping();
        const perMaster = await Promise.all(admin.nodes('master').map(async (m) => (await m.keys(`${prefix}:*`)).length));
        expect(perMaster).toHaveLength(3);
        expect(perMaster.every((n) => n > 0)).toBe(true);
        expect(reports).toEqual([]);
      } finally {
        await store.close();
        admin.disconnect();
      }
    }
  });

  it('connects to nodes given by name (localhost) as well as by address', async () => {
    const { store } = storeFor({ ...env, REDIS_CLUSTER_NODES: (env.REDIS_CLUSTER_NODES as string).replace(/127\.0\.0\.1/g, 'localhost') });
    try {
      expect((await store.claim(`${uniqueName('p')}/tx/0`)).epoch).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('refuses a wrong password with a clear error that holds neither password', async () => {
    const [{ text }, none] = await Promise.all([
      refusal({ ...without(env, 'REDIS_PASSWORD_FILE'), REDIS_PASSWORD: wrong }),
      refusal(without(env, 'REDIS_PASSWORD_FILE', 'REDIS_USERNAME')),
    ]);
    expect(text).toMatch(/redis journal claim failed: Failed to refresh slots cache\. \(last node: WRONGPASS invalid username-password pair/);
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(password);
    expect(none.error.message).toMatch(/NOAUTH Authentication required/);
  });

  it('refuses a server certificate from another CA, or for another name', async () => {
    const [otherCa, publicRoots, otherName] = await Promise.all([
      refusal({ ...env, REDIS_TLS_CA_FILE: strangerTls().ca }),
      refusal(without(env, 'REDIS_TLS_CA_FILE')),
      refusal({ ...env, REDIS_TLS_SERVERNAME: 'redis.example.com' }),
    ]);
    expect(otherCa.error.message).toMatch(/TLS to 127\.0\.0\.1:\d+: the server's certificate was refused \(SELF_SIGNED_CERT_IN_CHAIN/);
    expect(publicRoots.error.message).toMatch(/the server's certificate was refused/);
    expect(otherName.error.message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID: Hostname\/IP does not match certificate's altnames: Host: redis\.example\.com/);
    for (const r of [otherCa, publicRoots, otherName]) expect(r.text).not.toContain(password);
  });

  it('is refused by the servers with a client certificate from another CA', async () => {
    const stranger = strangerTls();
    const { error, text } = await refusal({ ...env, REDIS_TLS_CERT_FILE: stranger.cert, REDIS_TLS_KEY_FILE: stranger.key });
    expect(error.message).toMatch(/alert unknown ca .*: the server refused this client's certificate/);
    expect(text).not.toContain(password);
  });

  it('tells a client without TLS that the servers speak only TLS', async () => {
    const { error, text } = await refusal(without(env, 'REDIS_TLS', 'REDIS_TLS_CA_FILE', 'REDIS_TLS_CERT_FILE', 'REDIS_TLS_KEY_FILE'));
    expect(error.message).toMatch(/127\.0\.0\.1:\d+ accepts TLS connections only: set REDIS_TLS=true/);
    expect(text).not.toContain(password);
  });
});

describe('single Redis over TLS with a password', () => {
  let redis: PrivateTlsRedis;
  beforeAll(async () => {
    redis = await PrivateTlsRedis.start();
  });
  afterAll(() => redis?.stop());

  it('serves the feature store with the password from a file, the CA and a client certificate', async () => {
    const { store, reports } = storeFor(redis.env);
    try {
      await matchesMemoryStore(store);
      expect(reports).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('takes the credentials from a rediss:// URL too', async () => {
    const password = secret(redis.env.REDIS_PASSWORD_FILE as string);
    const url = `rediss://${redis.env.REDIS_USERNAME as string}:${encodeURIComponent(password)}@127.0.0.1:${redis.port}`;
    const { store } = storeFor({ ...without(redis.env, 'REDIS_USERNAME', 'REDIS_PASSWORD_FILE'), REDIS_URL: url });
    try {
      expect((await store.claim(`${uniqueName('p')}/tx/0`)).epoch).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('refuses a wrong password, a server certificate from another CA, and plaintext, saying which', async () => {
    const password = secret(redis.env.REDIS_PASSWORD_FILE as string);
    const wrong = `wrong-${randomUUID()}`;
    const [badPassword, otherCa, plain] = await Promise.all([
      refusal({ ...without(redis.env, 'REDIS_PASSWORD_FILE'), REDIS_PASSWORD: wrong }),
      refusal({ ...redis.env, REDIS_TLS_CA_FILE: strangerTls().ca }),
      refusal({ ...without(redis.env, 'REDIS_TLS', 'REDIS_TLS_CA_FILE', 'REDIS_TLS_CERT_FILE', 'REDIS_TLS_KEY_FILE'), REDIS_URL: `redis://127.0.0.1:${redis.port}` }),
    ]);
    expect(badPassword.error.message).toMatch(/WRONGPASS/);
    expect(badPassword.text).not.toContain(wrong);
    expect(otherCa.error.message).toMatch(/the server's certificate was refused \(SELF_SIGNED_CERT_IN_CHAIN/);
    expect(plain.error.message).toMatch(/accepts TLS connections only: set REDIS_TLS=true/);
    for (const r of [badPassword, otherCa, plain]) expect(r.text).not.toContain(password);
  });
});
