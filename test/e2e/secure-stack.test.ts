// The detector on the secured stack of `scripts/services.sh up --secure`, as a bank's platform
// team runs Kafka and Redis: SASL_SSL with SCRAM and mutual TLS, ACLs enforced with nothing
// allowed by default, Redis over TLS only with a key-scoped ACL user. The worker decides a
// simulated stream with only the ACLs `topics acls --apply` adds; a principal without them is
// denied; a wrong password or a certificate from another CA ends the start saying why; the
// detector's Redis user is held to its prefix and its commands; and nothing the run printed,
// served or dead-lettered holds a password or a card number.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { connectRedis } from '../../src/features/redis/connect.js';
import { redisTarget } from '../../src/features/redis/target.js';
import { createProducer } from '../../src/kafka/client.js';
import { runCli, runWorker, type CliProcess, type WorkerProcess } from '../helpers/cli.js';
import { strangerTls } from '../helpers/secure-redis.js';
import { KAFKA_ACLS_TOOL, LOCAL_DIR, allSecrets, clientFor, outsiderEnv, readAs, secureEnv, tryConsume, tryProduce } from '../helpers/secure-stack.js';
import { uniqueName } from '../helpers/services.js';

const id = randomUUID().slice(0, 8);
const names = {
  TOPIC_TRANSACTIONS: `sec-tx-${id}`, TOPIC_ALERTS: `sec-alerts-${id}`, TOPIC_DECISIONS: `sec-decisions-${id}`, TOPIC_DLQ: `sec-dlq-${id}`, TOPIC_LABELS: `sec-labels-${id}`,
  KAFKA_GROUP_ID: `sec-detector-${id}`, TRANSACTIONS_PARTITIONS: '3',
};
const subscriberGroup = `sec-subscriber-${id}`;
// Card numbers (test PANs, Luhn-valid) carried by a few transactions and a malformed event.
const PANS = ['4111111111111111', '5500005555555559', '340000000000009'];
/** Everything the secured run printed, served or dead-lettered, for the scan at the end. */
const seen: string[] = [];
const wrongPassword = `wrong-${randomUUID()}`;

const exitWithin = async (cli: CliProcess, ms: number): Promise<number | null> =>
  Promise.race([cli.exited, new Promise<'running'>((r) => setTimeout(r, ms, 'running'))]).then((code) => {
    if (code === 'running') {
      cli.child.kill('SIGKILL');
      throw new Error(`still running after ${ms} ms:\n${cli.output()}`);
    }
    return code;
  });

async function cli(args: string[], env: Record<string, string>): Promise<string> {
  const run = runCli(args, { ...env, LOG_LEVEL: 'info' });
  const code = await run.exited;
  seen.push(run.output());
  if (code !== 0) throw new Error(`fraud-detector ${args.join(' ')} exited ${code}:\n${run.output()}`);
  return run.output();
}

/** Waits until the worker's /metrics count `events` events (decided or dead-lettered); fails with what it said meanwhile. */
async function untilCounted(run: WorkerProcess, events: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let counted = 0;
  while (Date.now() < deadline) {
    const metrics = await run.metrics();
    counted = [...metrics.matchAll(/^fraud_detector_events_total\{outcome="[a-z_]+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    if (counted >= events) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the worker counted ${counted} of ${events} events in ${timeoutMs} ms; its output:\n${run.output().slice(-4000)}`);
}

/**
 * Luhn-valid runs of 13 to 19 digits standing alone and starting as card brands do (2-6): not
 * epoch milliseconds (they start with 1), nor the digits of a float or of a hex digest.
 */
function cardNumbersIn(text: string): string[] {
  return (text.match(/(?<![\w.])[2-6]\d{12,18}(?![\w.])/g) ?? []).filter((digits) => {
    let sum = 0;
    for (let i = 0; i < digits.length; i++) {
      let d = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    return sum % 10 === 0;
  });
}

describe('the secured stack', () => {
  const worker: Record<string, string> = { ...secureEnv('worker'), ...names };
  const admin = { ...secureEnv('admin'), ...names };
  const producer = { ...secureEnv('producer'), ...names };
  const subscriber = { ...secureEnv('subscriber'), ...names };

  beforeAll(async () => {
    await cli(['topics', 'create'], admin);
    await cli(['topics', 'acls', '--apply', '--kafka-acls', KAFKA_ACLS_TOOL, '--subscriber-group', subscriberGroup], admin);
  });

  it('decides a simulated stream end to end over SASL_SSL, mutual TLS and TLS Redis, with only the ACLs of `topics acls`', async () => {
    expect(worker.KAFKA_SSL_CERTIFICATE_LOCATION).toBe(join(LOCAL_DIR, 'tls', 'kafka-client.crt'));
    const run = await runWorker(loadConfig({}), { ...worker, LOG_LEVEL: 'info', EMIT_DECISIONS: 'true', MODEL_PATH: 'models/default.onnx' });
    try {
      const sim = await cli(['simulate', '--rate', '600', '--count', '1500', '--malformed-rate', '0.02', '--label-delay', '1', '--seed', '11'], producer);
      const [, sent, malformed] = /done: sent (\d+) events \(\d+ in fraud episodes, (\d+) malformed\)/.exec(sim) ?? [];
      const kafka = createProducer(clientFor(producer).settings);
      await kafka.connect();
      // A card-testing burst (eight small online payments on one card within minutes): the 5th to the 8th are alerts, whatever the simulated stream holds.
      const T = Date.now() - 600_000;
      const burst = Array.from({ length: 8 }, (_, i) => ({ transactionId: `burst-${id}-${i}`, accountId: 'acct-burst', cardId: 'card-burst', amount: 1.5, currency: 'EUR', channel: 'ecom', timestamp: new Date(T + i * 20_000).toISOString() }));
      await kafka.send({ topic: names.TOPIC_TRANSACTIONS, messages: [
        ...burst.map((e) => ({ key: e.accountId, value: JSON.stringify(e) })),
        ...PANS.map((pan, i) => ({ key: 'acct-pan', value: JSON.stringify({ transactionId: `pan-${id}-${i}`, accountId: 'acct-pan', amount: 12.5, currency: 'EUR', timestamp: new Date().toISOString(), cardNumber: pan }) })),
        { key: 'acct-pan', value: `{"transactionId":"pan-bad","cardNumber":"${PANS[0] as string}",` },
      ] });
      await kafka.disconnect();
      const decided = Number(sent) - Number(malformed) + PANS.length + burst.length;
      await untilCounted(run, decided + Number(malformed) + 1, 120_000);
      const decisions = await readAs(admin, names.TOPIC_DECISIONS, uniqueName('sec-reader'), decided, 60_000);
      expect(decisions).toHaveLength(decided);
      const dead = await readAs(admin, names.TOPIC_DLQ, uniqueName('sec-reader'), Number(malformed) + 1, 30_000);
      expect(dead).toHaveLength(Number(malformed) + 1);
      seen.push(...dead.map((d) => JSON.stringify(d.headers)));
      // The subscriber reads the alerts in its own group, with its own ACLs.
      const flagged = decisions.filter((d) => (JSON.parse(d.value) as { decision: string }).decision !== 'allow').length;
      expect(flagged).toBeGreaterThan(0);
      const alerts = await readAs(subscriber, names.TOPIC_ALERTS, subscriberGroup, flagged, 30_000);
      expect(alerts).toHaveLength(flagged);
      const metrics = await run.metrics();
      expect(metrics).toMatch(new RegExp(`fraud_detector_events_total\\{outcome="dead_letter"\\} ${Number(malformed) + 1}\\b`));
      seen.push(metrics);
      run.child.kill('SIGTERM');
      expect(await exitWithin(run, 30_000)).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
      seen.push(run.output());
    }
  }, 180_000);

  it('denies a principal without ACLs reading transactions and writing alerts, and each principal what the plan does not give it', async () => {
    expect(await tryProduce(outsiderEnv(), names.TOPIC_ALERTS)).toMatch(/Topic authorization failed/);
    const outsider = await tryConsume(outsiderEnv(), names.TOPIC_TRANSACTIONS, uniqueName('outsider'), 5000);
    expect(outsider.received).toBe(0);
    expect(outsider.log).toMatch(/authorization failed/i);
    // The subscriber has a group of its own but no read on transactions: the topic itself is refused.
    const nosy = await tryConsume(subscriber, names.TOPIC_TRANSACTIONS, subscriberGroup, 5000);
    expect(nosy.received).toBe(0);
    expect(nosy.log).toMatch(/Topic authorization failed/);
    // The detector cannot inject transactions, nor the subscriber alerts.
    expect(await tryProduce(worker, names.TOPIC_TRANSACTIONS)).toMatch(/Topic authorization failed/);
    expect(await tryProduce(subscriber, names.TOPIC_ALERTS)).toMatch(/Topic authorization failed/);
    // A worker started as the outsider stops at once, saying what it lacks.
    const refused = runCli(['run'], { ...outsiderEnv(), ...names });
    expect(await exitWithin(refused, 20_000)).toBe(1);
    expect(refused.output()).toMatch(/FD_KAFKA: principal User:fd-outsider is not authorized on topic sec-tx-/);
    seen.push(refused.output());
  }, 60_000);

  it('ends the start on a wrong password with a clear error that does not contain it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fd-wrong-')), 'password');
    writeFileSync(file, `${wrongPassword}\n`, { mode: 0o600 });
    const started = Date.now();
    const run = runCli(['run'], { ...worker, KAFKA_SASL_PASSWORD_FILE: file, LOG_LEVEL: 'debug' });
    expect(await exitWithin(run, 20_000)).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.output()).toMatch(/FD_KAFKA: Kafka refused the credentials of fraud-detector with SCRAM-SHA-512 .*invalid credentials/);
    expect(run.output()).not.toContain(wrongPassword);
    seen.push(run.output());
  }, 30_000);

  it('refuses a broker certificate from another CA, and the broker refuses a client certificate from one', async () => {
    const stranger = strangerTls();
    const run = runCli(['run'], { ...worker, KAFKA_SSL_CA_LOCATION: stranger.ca });
    expect(await exitWithin(run, 20_000)).toBe(1);
    expect(run.output()).toMatch(/FD_KAFKA: the broker's certificate was refused \(checked against .*KAFKA_SSL_CA_LOCATION\): .*certificate verify failed/);
    seen.push(run.output());
    const withoutCertificate = Object.fromEntries(Object.entries(worker).filter(([k]) => k !== 'KAFKA_SSL_CERTIFICATE_LOCATION' && k !== 'KAFKA_SSL_KEY_LOCATION'));
    for (const env of [{ ...worker, KAFKA_SSL_CERTIFICATE_LOCATION: stranger.cert, KAFKA_SSL_KEY_LOCATION: stranger.key }, withoutCertificate]) {
      const client = runCli(['run'], env);
      expect(await exitWithin(client, 20_000)).toBe(1);
      expect(client.output()).toMatch(/FD_KAFKA: the broker refused this client's certificate/);
      seen.push(client.output());
    }
  }, 60_000);

  describe("the detector's Redis user", () => {
    const redis = connectRedis(redisTarget(loadConfig(worker)));
    const denied = (p: Promise<unknown>): Promise<string> => p.then(() => 'allowed', (err: Error) => err.message);
    afterAll(() => redis.disconnect());

    it('reads and writes its own prefix, and no key outside it, not even from a script', async () => {
      const mine = `fd:secure-test:${id}`;
      expect(await redis.set(mine, 'v', 'PX', 60_000)).toBe('OK');
      expect(await redis.get(mine)).toBe('v');
      for (const other of [`other:${id}`, `fdx:${id}`, `${id}`]) {
        expect(await denied(redis.get(other))).toMatch(/NOPERM/);
        expect(await denied(redis.set(other, 'v'))).toMatch(/NOPERM/);
        expect(await denied(redis.eval("return redis.call('GET', KEYS[1])", 1, other))).toMatch(/NOPERM/);
      }
      expect(await denied(redis.eval(`return redis.call('GET', 'other:${id}')`, 0))).toMatch(/can't access at least one of the keys/);
    });

    it('cannot run FLUSHALL, CONFIG, KEYS or anything outside the feature store\'s commands', async () => {
      expect(await denied(redis.flushall())).toMatch(/NOPERM.*flushall/);
      expect(await denied(redis.config('GET', 'maxmemory'))).toMatch(/NOPERM.*config/);
      expect(await denied(redis.keys('*'))).toMatch(/NOPERM.*keys/);
      expect(await denied(redis.call('ACL', 'LIST'))).toMatch(/NOPERM/);
      expect(await denied(redis.call('SCAN', '0'))).toMatch(/NOPERM/);
      expect(await denied(redis.eval("return redis.call('FLUSHALL')", 0))).toMatch(/can't run this command/);
    });

    it('is the only way in: the default user is off', async () => {
      const anonymous = connectRedis(redisTarget(loadConfig({ ...worker, REDIS_USERNAME: '', REDIS_PASSWORD_FILE: '' })));
      try {
        expect(await denied(anonymous.ping())).toMatch(/NOAUTH|WRONGPASS|disabled|closed/i);
      } finally {
        anonymous.disconnect();
      }
    });
  });

  it('printed, served and dead-lettered no password, no secret and no card number over the whole run', () => {
    const text = seen.join('\n');
    expect(text.length).toBeGreaterThan(10_000);
    expect(text).toMatch(/"msg":"worker consuming"/);
    for (const secret of [...allSecrets(), wrongPassword]) expect(text).not.toContain(secret);
    expect(cardNumbersIn(text)).toEqual([]);
    for (const pan of PANS) expect(text).not.toContain(pan);
  });
});
