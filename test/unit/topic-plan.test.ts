// The topic plan: partitions, replication factor and min.insync.replicas from the configuration.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { describePlan, topicPlan } from '../../src/kafka/admin.js';

describe('topicPlan', () => {
  it("leaves replication to the broker's defaults unless configured", () => {
    const plan = topicPlan(loadConfig({}));
    expect(plan.map((t) => t.topic)).toEqual(['transactions', 'fraud-alerts', 'fraud-decisions', 'transactions-dlq', 'fraud-labels']);
    expect(plan.every((t) => t.replicationFactor === undefined && Object.keys(t.configs).length === 0)).toBe(true);
    expect(describePlan(plan[0]!)).toBe("6 partitions, replication factor the broker's default");
  });

  it('gives every topic the configured replication factor and min.insync.replicas', () => {
    const plan = topicPlan(loadConfig({ TOPIC_REPLICATION_FACTOR: '3', TOPIC_MIN_INSYNC_REPLICAS: '2', TRANSACTIONS_PARTITIONS: '12' }));
    for (const t of plan) {
      expect(t.replicationFactor).toBe(3);
      expect(t.configs).toEqual({ 'min.insync.replicas': '2' });
    }
    expect(plan.map((t) => t.partitions)).toEqual([12, 12, 12, 3, 12]);
    expect(describePlan(plan[0]!)).toBe('12 partitions, replication factor 3, min.insync.replicas=2');
  });

  it('refuses a min.insync.replicas above the replication factor, naming the setting', () => {
    expect(() => loadConfig({ TOPIC_REPLICATION_FACTOR: '1', TOPIC_MIN_INSYNC_REPLICAS: '2' })).toThrow(/TOPIC_MIN_INSYNC_REPLICAS must be at most TOPIC_REPLICATION_FACTOR/);
    expect(() => loadConfig({ TOPIC_REPLICATION_FACTOR: '0' })).toThrow(/TOPIC_REPLICATION_FACTOR/);
  });
});
