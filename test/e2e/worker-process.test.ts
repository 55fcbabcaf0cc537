// The worker as a process: killed mid-stream (twice) it loses nothing, counts nothing twice,
// and decides every redelivered transaction exactly as the first time; stopped with SIGTERM
// it drains, commits and exits 0, and a second worker takes over.
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import type { TransactionEvent } from '../../src/contract/transaction.js';
import { configEnv, runCli, type CliProcess } from '../helpers/cli.js';
import { tx } from '../helpers/events.js';
import { closePollingAdmin, committedOffsets, consumeAll, produce, readAll, topicSize } from '../helpers/services.js';
import { testWorld, type TestWorld } from '../helpers/worker.js';

const ACCOUNTS = 40;

function stream(n: number, from: number): TransactionEvent[] {
  const t0 = Date.now() - 10 * 3_600_000;
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return tx({ transactionId: `e2e-${i}`, accountId: `acct-${i % ACCOUNTS}`, cardId: `card-${i % ACCOUNTS}`, amount: 10 + (i % 13), timestamp: new Date(t0 + i * 5000).toISOString() });
  });
}

const send = (world: TestWorld, events: TransactionEvent[]): Promise<void> =>
  produce(world.config.TOPIC_TRANSACTIONS, events.map((e) => ({ key: e.accountId, value: JSON.stringify(e) })));

/** Sends the events 20 at a time, 40 ms apart (a few seconds): a live stream the worker is still deciding when it is killed. */
async function sendPaced(world: TestWorld, events: TransactionEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 20) {
    await send(world, events.slice(i, i + 20));
    await new Promise((r) => setTimeout(r, 40));
  }
}

async function committedTotal(world: TestWorld): Promise<bigint> {
  const offsets = await committedOffsets(world.config.KAFKA_GROUP_ID, world.config.TOPIC_TRANSACTIONS);
  return [...offsets.values()].reduce((a, b) => a + (b > 0n ? b : 0n), 0n);
}

async function decisionsOf(world: TestWorld, atLeast: number): Promise<Decision[]> {
  const msgs = await consumeAll(world.config.TOPIC_DECISIONS, atLeast, 60_000);
  return msgs.map((m) => JSON.parse((m.value as Buffer).toString()) as Decision);
}

/**
 * SIGKILLs the worker at a moment it has produced decisions whose offsets are not committed
 * (frozen with SIGSTOP while the two are compared), so that they are surely read again.
 */
async function killWithOutputsUncommitted(worker: CliProcess, world: TestWorld): Promise<void> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    worker.child.kill('SIGSTOP');
    const [decided, committed] = [await topicSize(world.config.TOPIC_DECISIONS), await committedTotal(world)];
    if (BigInt(decided) > committed) break;
    worker.child.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
  }
  worker.child.kill('SIGKILL');
  await worker.exited;
}

describe('worker process', () => {
  afterAll(() => closePollingAdmin());
  it('after SIGKILLs mid-stream and restarts, loses no event, counts none twice and decides redeliveries as the first time', async () => {
    const world = testWorld({ BATCH_MAX_SIZE: '20', PARTITIONS_CONCURRENCY: '1' });
    await world.setup();
    const env = configEnv(world.config);
    const events = stream(6000, 0);
    // Half the stream, a worker killed; the other half sent to the next one, killed too. Each
    // half arrives as a paced stream, so the worker is still deciding when it is killed (sent at
    // once, a fast worker could finish its half before the kill found outputs ahead of their commit).
    for (const [part, killAfter] of [[events.slice(0, 3000), 200n], [events.slice(3000), 3200n]] as const) {
      const worker = runCli(['run'], env);
      const sending = sendPaced(world, part);
      await expect.poll(() => committedTotal(world), { timeout: 60_000, interval: 20 }).toBeGreaterThan(killAfter);
      await killWithOutputsUncommitted(worker, world);
      await sending;
    }
    expect(await committedTotal(world)).toBeLessThan(BigInt(events.length));

    const last = runCli(['run'], env);
    try {
      await expect.poll(() => committedTotal(world), { timeout: 90_000, interval: 200 }).toBe(BigInt(events.length));
    } finally {
      last.child.kill('SIGTERM');
      expect(await last.exited).toBe(0);
    }
    const decisions = (await readAll(world.config.TOPIC_DECISIONS)).map((m) => JSON.parse((m.value as Buffer).toString()) as Decision);
    const byId = new Map<string, Decision[]>();
    for (const d of decisions) byId.set(d.transactionId, [...(byId.get(d.transactionId) ?? []), d]);
    expect(byId.size).toBe(events.length);
    // Redelivered (decided before a kill, not committed): the same decision, features and all.
    const strip = ({ decidedAt: _decidedAt, ...rest }: Decision): Omit<Decision, 'decidedAt'> => rest;
    const redelivered = [...byId.values()].filter((ds) => ds.length > 1);
    expect(redelivered.length).toBeGreaterThan(0);
    for (const ds of redelivered) for (const d of ds.slice(1)) expect(strip(d)).toEqual(strip(ds[0] as Decision));
    // Features counted once: each account's latest view counts exactly its own events.
    const perAccount = new Map<string, number>();
    for (const d of decisions) perAccount.set(d.accountId, Math.max(perAccount.get(d.accountId) ?? 0, d.features.account?.count_1d ?? 0));
    for (const [, maxCount] of perAccount) expect(maxCount).toBe(events.length / ACCOUNTS);
  });

  it('drains on SIGTERM, exits 0 with offsets committed, and a second worker takes over', async () => {
    const world = testWorld({ BATCH_MAX_SIZE: '50' });
    await world.setup();
    const env = configEnv(world.config);
    const a = runCli(['run'], env);
    const b = runCli(['run'], env);
    const part1 = stream(1500, 0);
    await send(world, part1);
    await expect.poll(() => committedTotal(world), { timeout: 60_000, interval: 100 }).toBe(BigInt(part1.length));
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(a.output()).not.toMatch(/"level":(50|60)/);
    const part2 = stream(1500, 1500);
    await send(world, part2);
    try {
      await expect.poll(() => committedTotal(world), { timeout: 60_000, interval: 100 }).toBe(BigInt(part1.length + part2.length));
    } finally {
      b.child.kill('SIGTERM');
      expect(await b.exited).toBe(0);
    }
    const decisions = await decisionsOf(world, part1.length + part2.length);
    expect(new Set(decisions.map((d) => d.transactionId)).size).toBe(part1.length + part2.length);
  });
});
