// Redis loss, recovered: a worker decides history, Redis loses the detector's keys, and
// `features rebuild` applies the transactions topic again (real Kafka, real Redis, the CLI as
// a user runs it); the next events then get exactly the features an undisturbed run gives them.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import type { TransactionEvent } from '../../src/contract/transaction.js';
import { configEnv, runCli } from '../helpers/cli.js';
import { at, tx } from '../helpers/events.js';
import { closePollingAdmin, committedOffsets, consumeAll, produce, REDIS_URL } from '../helpers/services.js';
import { testWorld, type TestWorld } from '../helpers/worker.js';

const T0 = new Date(Date.now() - 30 * 60_000).toISOString();
// Ten minutes of history (within the allowed lateness, so any interleaving of partitions gives
// the same windows), on entities shared across partitions (merchants, devices).
const history = Array.from({ length: 240 }, (_, i) => tx({ transactionId: `h-${i}`, accountId: `a-${i % 30}`, cardId: `c-${i % 30}`, merchantId: `m-${i % 5}`, deviceId: `d-${i % 7}`, amount: 5 + (i % 13), timestamp: at(T0, i * 2500) }));
const next = Array.from({ length: 40 }, (_, i) => tx({ transactionId: `n-${i}`, accountId: `a-${i % 30}`, cardId: `c-${i % 30}`, merchantId: `m-${i % 5}`, deviceId: `d-${i % 7}`, amount: 20 + i, timestamp: at(T0, 11 * 60_000 + i * 1000) }));
const messages = (events: TransactionEvent[], key?: string) => events.map((e) => ({ key: key ?? e.accountId, value: JSON.stringify(e) }));
// The next events in one partition, so each one sees its shared entities (merchants, devices)
// after the same events in both runs: across partitions the interleaving differs from run to run.
const nextMessages = messages(next, 'next');
const sum = (m: Map<number, bigint>): bigint => [...m.values()].reduce((a, b) => a + b, 0n);

/** The features each of `events` was decided with, by transactionId. */
async function featuresOf(world: TestWorld, total: number, events: TransactionEvent[]): Promise<Map<string, Decision['features']>> {
  const decided = (await consumeAll(world.config.TOPIC_DECISIONS, total, 60_000)).map((m) => JSON.parse((m.value as Buffer).toString()) as Decision);
  const ids = new Set(events.map((e) => e.transactionId));
  return new Map(decided.filter((d) => ids.has(d.transactionId)).map((d) => [d.transactionId, d.features]));
}

/** The detector's entity states in Redis (journal and fencing keys left out). */
async function states(redis: Redis, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const key of await redis.keys(`${prefix}:{*`)) out.set(key, (await redis.getBuffer(key))?.toString('base64') ?? '');
  return out;
}

async function rebuild(world: TestWorld): Promise<{ code: number | null; output: string }> {
  const cli = runCli(['features', 'rebuild', '--since', '2h'], configEnv(world.config));
  const code = await cli.exited;
  return { code, output: cli.output() };
}

describe('features rebuild', () => {
  const redis = new Redis(REDIS_URL);
  afterAll(async () => {
    redis.disconnect();
    await closePollingAdmin();
  });

  it('rebuilds the state Redis lost, so the next events are decided on the features of an undisturbed run', async () => {
    // Undisturbed: history, then the next events, one worker throughout.
    const calm = testWorld();
    await calm.setup();
    await produce(calm.config.TOPIC_TRANSACTIONS, messages(history));
    const calmWorker = await calm.start();
    await consumeAll(calm.config.TOPIC_DECISIONS, history.length, 60_000);
    await produce(calm.config.TOPIC_TRANSACTIONS, nextMessages);
    const expected = await featuresOf(calm, history.length + next.length, next);
    await calmWorker.stop();
    expect(expected.size).toBe(next.length);

    // Disturbed: history decided and committed, then Redis loses every key of the detector.
    const world = testWorld();
    await world.setup();
    await produce(world.config.TOPIC_TRANSACTIONS, messages(history));
    let worker = await world.start();
    await expect.poll(async () => sum(await committedOffsets(world.config.KAFKA_GROUP_ID, world.config.TOPIC_TRANSACTIONS)), { timeout: 60_000 }).toBe(BigInt(history.length));
    const before = await states(redis, world.config.REDIS_KEY_PREFIX);
    expect(before.size).toBeGreaterThan(0);

    // Refused while a worker is in the group: it would apply new events before the old ones.
    const refused = await rebuild(world);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/FD_REBUILD_REFUSED: group .* has 1 active member\(s\); stop the workers/);
    await worker.stop();

    const keys = await redis.keys(`${world.config.REDIS_KEY_PREFIX}:*`);
    await redis.del(...keys);

    const first = await rebuild(world);
    expect(first.output).toMatch(/240 records in 3 partition range\(s\)/);
    expect(first.output).toMatch(/rebuilt: 240 transactions and 0 labels applied, 0 invalid records skipped, in [\d.]+ s \(\d+ events\/s\)/);
    expect(first.code).toBe(0);
    // Every entity is back (its encoding may differ: a state counts its writes, fewer here).
    const rebuilt = await states(redis, world.config.REDIS_KEY_PREFIX);
    expect([...rebuilt.keys()].sort()).toEqual([...before.keys()].sort());
    // Idempotent: a second rebuild over the rebuilt state changes nothing.
    expect((await rebuild(world)).code).toBe(0);
    expect(await states(redis, world.config.REDIS_KEY_PREFIX)).toEqual(rebuilt);

    // The workers start again where the rebuilt state ends.
    worker = await world.start();
    try {
      await produce(world.config.TOPIC_TRANSACTIONS, nextMessages);
      const got = await featuresOf(world, history.length + next.length, next);
      expect(got).toEqual(expected);
    } finally {
      await worker.stop();
    }
  }, 180_000);
});
