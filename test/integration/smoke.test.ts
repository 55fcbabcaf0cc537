// Smoke test of the foundation: a real Kafka broker and a real Redis answer as the detector expects.
import { afterAll, describe, expect, it } from 'vitest';
import { consumeAll, createTopics, deleteTopics, produce, redis, uniqueName } from '../helpers/services.js';

describe('local services', () => {
  const topic = uniqueName('smoke');
  afterAll(() => deleteTopics([topic]));

  it('produces to a topic and consumes it back through a consumer group', async () => {
    await createTopics([{ topic, partitions: 3 }]);
    const sent = Array.from({ length: 100 }, (_, i) => ({ key: `k${i % 7}`, value: JSON.stringify({ i }) }));
    await produce(topic, sent);
    const got = await consumeAll(topic, 100);
    expect(got).toHaveLength(100);
    const values = got.map((m) => (JSON.parse((m.value as Buffer).toString()) as { i: number }).i).sort((a, b) => a - b);
    expect(values).toEqual(sent.map((_, i) => i));
    // Same key, same partition: the ordering the detector relies on.
    const partitionsOfK0 = new Set(got.filter((m) => m.key === 'k0').map((m) => m.partition));
    expect(partitionsOfK0.size).toBe(1);
  });

  it('round-trips a value through Redis, scripts included', async () => {
    const client = redis();
    const key = uniqueName('smoke');
    try {
      await client.set(key, 'value', 'PX', 60_000);
      expect(await client.get(key)).toBe('value');
      expect(await client.eval("return redis.call('STRLEN', KEYS[1])", 1, key)).toBe(5);
    } finally {
      await client.del(key);
      client.disconnect();
    }
  });
});
