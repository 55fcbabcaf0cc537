// Label windows a transaction only reads are held between calls while no label is applied
// (label-read-cache.ts): not read from Redis again, yet a label applied by any worker is seen
// by the next read, and a Redis that lost the token is read afresh.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { RedisFeatureStore } from '../../src/features/redis/redis-store.js';
import type { EntityBatch } from '../../src/features/store.js';
import { windowSpec } from '../../src/features/windows.js';
import { redis, uniqueName } from '../helpers/services.js';

const windows = [windowSpec('7d')];
const T0 = Date.parse('2026-04-01T00:00:00Z');

/** A transaction reading merchant `id`'s label window at `t`. */
function read(id: string, t: number, tx: string): EntityBatch[] {
  return [{ entity: 'merchant_labels', id, windows, events: [{ transactionId: tx, eventTimeMs: t, amount: 0, readOnly: true }] }];
}

/** A fraud label for merchant `id`, known at `t`. */
function label(id: string, t: number, tx: string): EntityBatch[] {
  return [{ entity: 'merchant_labels', id, windows, events: [{ transactionId: tx, eventTimeMs: t, amount: 1 }] }];
}

const frauds = async (store: RedisFeatureStore, id: string, t: number, tx: string): Promise<number | undefined> => (await store.observe(read(id, t, tx))).at(0, 0).windows[0]?.sum;

describe('label windows read by transactions', () => {
  const clients = [redis(), redis()];
  afterAll(() => clients.forEach((c) => c.disconnect()));

  it('are read from Redis once while no label arrives, and a label from another worker is seen by the next read', async () => {
    const prefix = uniqueName('labelreads');
    const [reader, labeller] = clients.map((c) => new RedisFeatureStore(c, { keyPrefix: prefix, allowedLatenessMs: 3_600_000, ttlMs: 600_000 })) as [RedisFeatureStore, RedisFeatureStore];
    await labeller.observe(label('m1', T0, 'l1'));
    const mget = vi.spyOn(clients[0] as (typeof clients)[number], 'mgetBuffer');
    const labelKeysRead = (): number => mget.mock.calls.flat().filter((k) => String(k).includes('merchant_labels')).length;

    expect(await frauds(reader, 'm1', T0 + 1000, 't1')).toBe(1);
    expect(labelKeysRead()).toBe(1);
    expect(await frauds(reader, 'm1', T0 + 2000, 't2')).toBe(1);
    expect(await frauds(reader, 'm1', T0 + 3000, 't3')).toBe(1);
    expect(labelKeysRead()).toBe(1); // held: only the token was read

    await labeller.observe(label('m1', T0 + 3500, 'l2'));
    expect(await frauds(reader, 'm1', T0 + 4000, 't4')).toBe(2);
    expect(labelKeysRead()).toBe(2);

    // The reader's own label write is seen too.
    await reader.observe(label('m1', T0 + 4500, 'l3'));
    expect(await frauds(reader, 'm1', T0 + 5000, 't5')).toBe(3);

    // Redis lost the token (and whatever else): the label window is read again, not trusted.
    await (clients[1] as (typeof clients)[number]).del(`${prefix}:labels-version`, ...(await (clients[1] as (typeof clients)[number]).keys(`${prefix}:*merchant_labels*`)));
    const before = labelKeysRead();
    expect(await frauds(reader, 'm1', T0 + 6000, 't6')).toBe(0);
    expect(await frauds(reader, 'm1', T0 + 7000, 't7')).toBe(0);
    expect(labelKeysRead()).toBe(before + 2);
    mget.mockRestore();
  });

  it('a redelivered label that changes nothing still tells readers (its first write may not have)', async () => {
    const prefix = uniqueName('labelredo');
    const [reader, labeller] = clients.map((c) => new RedisFeatureStore(c, { keyPrefix: prefix, allowedLatenessMs: 3_600_000, ttlMs: 600_000 })) as [RedisFeatureStore, RedisFeatureStore];
    expect(await frauds(reader, 'm2', T0, 't1')).toBe(0);
    const token = async (): Promise<string | null> => (clients[1] as (typeof clients)[number]).get(`${prefix}:labels-version`);
    await labeller.observe(label('m2', T0, 'l1'));
    const first = await token();
    await labeller.observe(label('m2', T0, 'l1'));
    expect(await token()).not.toBe(first);
    expect(await frauds(reader, 'm2', T0 + 1000, 't2')).toBe(1);
  });
});
