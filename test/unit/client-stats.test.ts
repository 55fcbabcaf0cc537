// Reading librdkafka's statistics for partitions whose leader is out of reach.
import { describe, expect, it } from 'vitest';
import { clientHealth, impaired, type StatsEvent } from '../../src/kafka/client-stats.js';

const partitionsWithoutLeader = (e: StatsEvent): number | null => clientHealth(e)?.leaderless ?? null;

const stats = (brokers: Record<number, string>, partitions: Record<string, { leader: number; desired: boolean; consumer_lag?: number }>): string =>
  JSON.stringify({
    brokers: Object.fromEntries<{ nodeid: number; state: string }>([
      ['127.0.0.1:9092/bootstrap', { nodeid: -1, state: 'UP' }],
      ...Object.entries(brokers).map(([id, state]): [string, { nodeid: number; state: string }] => [`127.0.0.1:919${id}/${id}`, { nodeid: Number(id), state }]),
    ]),
    topics: { tx: { partitions: { '-1': { leader: -1, desired: false }, ...partitions } } },
  });

describe('partitions without a reachable leader', () => {
  it('counts assigned partitions whose leader is unknown or not connected, and only those', () => {
    const all = { '0': { leader: 1, desired: true }, '1': { leader: 2, desired: true }, '2': { leader: 3, desired: false } };
    expect(partitionsWithoutLeader(stats({ 1: 'UP', 2: 'UP', 3: 'UP' }, all))).toBe(0);
    expect(partitionsWithoutLeader(stats({ 1: 'UP', 2: 'DOWN', 3: 'DOWN' }, all))).toBe(1); // partition 2 is not ours
    expect(partitionsWithoutLeader(stats({ 1: 'CONNECT', 2: 'UP', 3: 'UP' }, { ...all, '3': { leader: -1, desired: true } }))).toBe(2);
    expect(partitionsWithoutLeader({ message: stats({ 1: 'UP', 2: 'UP', 3: 'UP' }, all) })).toBe(0);
  });

  it('finds the client impaired when most brokers are down, not when one is', () => {
    const ours = { '0': { leader: 1, desired: true } };
    const one = clientHealth(stats({ 1: 'UP', 2: 'DOWN', 3: 'UP' }, ours));
    const two = clientHealth(stats({ 1: 'UP', 2: 'DOWN', 3: 'DOWN' }, ours));
    expect(one).toEqual({ leaderless: 0, brokers: 3, down: 1, lag: 0 });
    expect(impaired(one as NonNullable<typeof one>)).toBe(false);
    expect(impaired(two as NonNullable<typeof two>)).toBe(true);
    // A killed broker is retried: connecting again is down too. Never connected (sparse connections) is not.
    expect(impaired(clientHealth(stats({ 1: 'UP', 2: 'TRY_CONNECT', 3: 'CONNECT' }, ours)) as NonNullable<typeof one>)).toBe(true);
    expect(impaired(clientHealth(stats({ 1: 'UP', 2: 'INIT', 3: 'INIT' }, ours)) as NonNullable<typeof one>)).toBe(false);
  });

  it("sums the assigned partitions' known lag (uncommitted records), ignoring unknown and unassigned ones", () => {
    const lagging = { '0': { leader: 1, desired: true, consumer_lag: 40 }, '1': { leader: 1, desired: true, consumer_lag: -1 }, '2': { leader: 1, desired: false, consumer_lag: 500 }, '3': { leader: 1, desired: true, consumer_lag: 2 } };
    expect(clientHealth(stats({ 1: 'UP' }, lagging))?.lag).toBe(42);
  });

  it('says nothing of statistics it cannot read', () => {
    expect(partitionsWithoutLeader('not json')).toBeNull();
    expect(partitionsWithoutLeader({})).toBeNull();
  });
});
