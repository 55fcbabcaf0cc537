// Reading librdkafka's statistics for partitions whose leader is out of reach.
import { describe, expect, it } from 'vitest';
import { partitionsWithoutLeader } from '../../src/kafka/client-stats.js';

const stats = (brokers: Record<number, string>, partitions: Record<string, { leader: number; desired: boolean }>): string =>
  JSON.stringify({
    brokers: Object.fromEntries([
      ['127.0.0.1:9092/bootstrap', { nodeid: -1, state: 'UP' }],
      ...Object.entries(brokers).map(([id, state]) => [`127.0.0.1:919${id}/${id}`, { nodeid: Number(id), state }]),
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

  it('says nothing of statistics it cannot read', () => {
    expect(partitionsWithoutLeader('not json')).toBeNull();
    expect(partitionsWithoutLeader({})).toBeNull();
  });
});
