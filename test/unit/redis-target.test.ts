// Redis connection settings: how REDIS_URL's credentials and the REDIS_* variables combine,
// secrets from files, TLS settings refused when they would be ignored, and no secret in any
// error message.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/contract/errors.js';
import { redisError } from '../../src/features/redis/redis-errors.js';
import { redisTarget } from '../../src/features/redis/target.js';

const dir = mkdtempSync(join(tmpdir(), 'fd-redis-target-'));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a failure');
};

describe('Redis target from the configuration', () => {
  it('takes credentials out of REDIS_URL, and the variables win over them one by one', () => {
    expect(redisTarget(loadConfig({ REDIS_URL: 'redis://alice:p%40ss@10.0.0.1:6380/2' }))).toEqual({ url: 'redis://10.0.0.1:6380/2', username: 'alice', password: 'p@ss' });
    expect(redisTarget(loadConfig({ REDIS_URL: 'redis://alice:old@h:6379', REDIS_PASSWORD: 'new' }))).toMatchObject({ url: 'redis://h:6379', username: 'alice', password: 'new' });
    expect(redisTarget(loadConfig({ REDIS_URL: 'redis://alice:old@h:6379', REDIS_USERNAME: 'bob' }))).toMatchObject({ username: 'bob', password: 'old' });
    expect(redisTarget(loadConfig({}))).toEqual({ url: 'redis://127.0.0.1:6379' });
  });

  it('reads the password from REDIS_PASSWORD_FILE, which wins over REDIS_PASSWORD, and applies it to a Cluster', () => {
    const secret = file('password', 's3cret-from-file\n');
    const target = redisTarget(loadConfig({ REDIS_CLUSTER_NODES: 'h:7000,h:7001', REDIS_USERNAME: 'fd', REDIS_PASSWORD: 'plain', REDIS_PASSWORD_FILE: secret }));
    expect(target).toMatchObject({ clusterNodes: ['h:7000', 'h:7001'], username: 'fd', password: 's3cret-from-file' });
    expect(target.tls).toBeUndefined();
  });

  it('turns TLS on with REDIS_TLS or a rediss:// URL, for a Cluster too, and verifies by default', () => {
    expect(redisTarget(loadConfig({ REDIS_URL: 'rediss://h:6380' })).tls).toEqual({});
    expect(redisTarget(loadConfig({ REDIS_TLS: 'true', REDIS_CLUSTER_NODES: 'h:7000', REDIS_TLS_SERVERNAME: 'redis.internal' })).tls).toEqual({ servername: 'redis.internal' });
  });

  it('refuses settings that would be ignored or contradict each other', () => {
    expect(() => loadConfig({ REDIS_TLS_CA_FILE: '/etc/ca.pem' })).toThrow(/REDIS_TLS_\* settings are given but TLS is off/);
    expect(() => loadConfig({ REDIS_TLS: 'false', REDIS_URL: 'rediss://h:6380' })).toThrow(/REDIS_TLS=false contradicts a rediss:\/\/ REDIS_URL/);
    expect(() => loadConfig({ REDIS_TLS: 'true', REDIS_TLS_CERT_FILE: '/c.pem' })).toThrow(/needs both REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE/);
    expect(() => loadConfig({ REDIS_USERNAME: 'fd' })).toThrow(/REDIS_USERNAME needs a password/);
  });

  it('fails at start on a TLS file it cannot use, naming the variable and never the content', () => {
    const notPem = file('not-a-cert.pem', 'hunter2-not-a-certificate');
    expect(() => redisTarget(loadConfig({ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: join(dir, 'missing.pem') }))).toThrow(/REDIS_TLS_CA_FILE: cannot read .*missing\.pem \(ENOENT\)/);
    const message = messageOf(() => redisTarget(loadConfig({ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: notPem })));
    expect(message).toMatch(/REDIS_TLS_CA_FILE: .*not-a-cert\.pem holds no PEM certificate/);
    expect(message).not.toContain('hunter2');
    expect(() => loadConfig({ REDIS_PASSWORD_FILE: join(dir, 'missing') })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_PASSWORD_FILE: file('empty', '\n') })).toThrow(/REDIS_PASSWORD_FILE: .* is empty/);
  });

  it('never shows a password in a configuration error', () => {
    const urlError = messageOf(() => loadConfig({ REDIS_URL: 'http://alice:hunter2@h:6379' }));
    expect(urlError).toMatch(/REDIS_URL: .*got "http:\/\/\*\*\*@h:6379"/);
    expect(urlError).not.toContain('hunter2');
    const kafkaError = messageOf(() => loadConfig({ REDIS_PASSWORD: 'hunter2', KAFKA_SASL_PASSWORD: 'hunter3', KAFKA_SECURITY_PROTOCOL: 'sasl_ssl' }));
    expect(kafkaError).toMatch(/KAFKA_SECURITY_PROTOCOL/);
    expect(kafkaError).not.toMatch(/hunter/);
  });
});

describe('Redis client errors as passed on', () => {
  it('drop the command ioredis attaches (a failed AUTH carries the password) and mask the password', () => {
    // As ioredis rejects the commands queued behind a refused AUTH (DataHandler.returnError).
    const auth = Object.assign(new Error('WRONGPASS invalid username-password pair or user is disabled.'), { name: 'ReplyError', command: { name: 'auth', args: ['fd', 'hunter2'] } });
    const safe = redisError(auth, ['hunter2']);
    expect(safe.message).toBe('WRONGPASS invalid username-password pair or user is disabled.');
    expect(safe.name).toBe('ReplyError');
    expect('command' in safe).toBe(false);
    expect(`${safe.stack ?? ''} ${JSON.stringify(safe)}`).not.toContain('hunter2');
    expect(redisError(new Error('ERR echoed hunter2 back'), ['hunter2']).message).toBe('ERR echoed *** back');
  });

  it('say why a Cluster could not connect, and name a refused certificate', () => {
    const lastNodeError = Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    const cluster = Object.assign(new Error('Failed to refresh slots cache.'), { name: 'ClusterAllFailedError', lastNodeError });
    expect(redisError(cluster).message).toBe("Failed to refresh slots cache. (last node: TLS: the server's certificate was refused (SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain))");
    expect(redisError(redisError(lastNodeError)).message).toBe("TLS: the server's certificate was refused (SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain)");
  });
});
