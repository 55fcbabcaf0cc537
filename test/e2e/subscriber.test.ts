// The subscriber's side, against the local Kafka: the worker's alerts are followed by
// `fraud-detector alerts tail` (readable lines and --json), and the example subscriber acts on
// each alert once, skipping a redelivered one and a malformed one.
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import { configEnv, runCli, type CliProcess } from '../helpers/cli.js';
import { at, tx } from '../helpers/events.js';
import { closePollingAdmin, consumeAll, produce } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

function subscriber(env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, ['examples/alert-subscriber.mjs'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
}

const jsonLines = (text: string): Record<string, unknown>[] => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the subscriber\'s side', () => {
  afterAll(() => closePollingAdmin());

  it('alerts tail follows the alerts, and the example subscriber acts on each once', async () => {
    const world = testWorld({ EMIT_DECISIONS: 'false' });
    await world.setup();
    const running = await world.start();
    const tail = runCli(['alerts', 'tail', '--from-beginning', '--summary-every', '0'], configEnv(world.config));
    const tailJson = runCli(['alerts', 'tail', '--json', '--from-beginning'], configEnv(world.config));
    const sub = subscriber({ KAFKA_BROKERS: world.config.KAFKA_BROKERS.join(','), TOPIC_ALERTS: world.config.TOPIC_ALERTS, SUBSCRIBER_GROUP: `${world.config.KAFKA_GROUP_ID}-sub` });
    try {
      // Card testing: eight small online payments on one card within minutes; the 5th to the 8th alert.
      const T = new Date(Date.now() - 600_000).toISOString();
      const burst = Array.from({ length: 8 }, (_, i) => tx({ transactionId: `ct-${world.config.KAFKA_GROUP_ID}-${i}`, accountId: 'victim', cardId: 'card-tested', amount: 1.5, channel: 'ecom', timestamp: at(T, i * 20_000) }));
      await produce(world.config.TOPIC_TRANSACTIONS, burst.map((e) => ({ key: e.accountId, value: JSON.stringify(e) })));
      const alerts = (await consumeAll(world.config.TOPIC_ALERTS, 4, 30_000)).map((m) => m.value as Buffer);
      expect(alerts).toHaveLength(4);
      // A redelivered alert, and a message that is not one.
      await produce(world.config.TOPIC_ALERTS, [{ key: 'victim', value: alerts[0] as Buffer }, { key: 'x', value: '{"not": "an alert"}' }]);

      await expect.poll(() => jsonLines(sub.output()).length, { timeout: 30_000 }).toBe(6);
      const actions = jsonLines(sub.output());
      expect(actions.filter((a) => a.action === 'open-case').map((a) => a.transactionId)).toEqual(burst.slice(4).map((e) => e.transactionId));
      expect(actions.filter((a) => a.action === 'skip-duplicate').map((a) => a.transactionId)).toEqual([burst[4]?.transactionId]);
      expect(actions.filter((a) => a.action === 'skip-invalid')).toHaveLength(1);

      await expect.poll(() => jsonLines(tailJson.output()).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(5);
      const followed = jsonLines(tailJson.output()) as unknown as Decision[];
      expect(followed.slice(0, 4).map((d) => [d.transactionId, d.decision])).toEqual(burst.slice(4).map((e) => [e.transactionId, 'review']));
      // The record that is not an alert is said on stderr and never printed as one.
      expect(followed.every((d) => typeof d.transactionId === 'string')).toBe(true);
      await expect.poll(() => tailJson.output(), { timeout: 30_000 }).toMatch(/skipped a record that is not a decision \(offset \d+\): \/: must have required property/);
      await expect.poll(() => tail.output().split('\n').filter((l) => / REVIEW /.test(l)).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
      expect(tail.output()).toMatch(/REVIEW\s+score 0\.00\s+victim\s+1\.50 EUR\s+card-testing-burst: 5 payments on this card in 1h, this one 1\.50/);
    } finally {
      for (const p of [tail, tailJson, sub]) p.child.kill('SIGTERM');
      await Promise.all([tail.exited, tailJson.exited, sub.exited]);
      await running.stop();
    }
  }, 90_000);
});
