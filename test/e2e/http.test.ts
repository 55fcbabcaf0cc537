// The worker's HTTP endpoints as a pod's probes and Prometheus see them.
import { describe, expect, it } from 'vitest';
import { configEnv, runCli } from '../helpers/cli.js';
import { tx } from '../helpers/events.js';
import { freePort } from '../helpers/redis-server.js';
import { produce } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

describe('worker HTTP endpoints', () => {
  it('serves /healthz, /readyz and /metrics with bounded labels and no identifiers', async () => {
    const world = testWorld();
    await world.setup();
    const port = await freePort();
    const worker = runCli(['run'], { ...configEnv(world.config), HTTP_PORT: String(port) });
    const base = `http://127.0.0.1:${port}`;
    try {
      await expect.poll(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status, { timeout: 30_000 }).toBe(200);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const events = Array.from({ length: 50 }, (_, i) => tx({ transactionId: `h-${i}`, accountId: `secret-acct-${i}`, cardId: `secret-card-${i}`, timestamp: new Date(Date.now() - 60_000).toISOString() }));
      await produce(world.config.TOPIC_TRANSACTIONS, [...events.map((e) => ({ key: e.accountId, value: JSON.stringify(e) })), { key: 'x', value: 'not json' }]);
      await expect.poll(async () => (await (await fetch(`${base}/metrics`)).text()).match(/fraud_detector_events_total\{outcome="allow"\} (\d+)/)?.[1], { timeout: 30_000 }).toBe('50');
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/fraud_detector_dead_letters_total\{code="FD_EVENT_NOT_JSON"\} 1/);
      expect(metrics).toMatch(/fraud_detector_stage_duration_seconds_bucket\{le="[^"]+",stage="features"\}/);
      expect(metrics).toMatch(/fraud_detector_consumer_lag\{partition="\d+"\}/);
      expect(metrics).toMatch(/fraud_detector_ready 1/);
      expect(metrics).not.toMatch(/secret-/);
      expect(worker.output()).not.toMatch(/secret-/);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
  });

  it('exits 0 when told to stop while it is still starting', async () => {
    const world = testWorld();
    await world.setup();
    const port = await freePort();
    const worker = runCli(['run'], { ...configEnv(world.config), HTTP_PORT: String(port) });
    // The HTTP server answers before the consumer has joined its group.
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status, { timeout: 30_000, interval: 10 }).toBe(200);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.output()).not.toMatch(/"level":(50|60)/);
  });

  it('exits 0 when told to stop while it still loads its model, before it serves or consumes', async () => {
    const world = testWorld({ MODEL_PATH: 'models/default.onnx' });
    await world.setup();
    const worker = runCli(['run'], { ...configEnv(world.config), HTTP_PORT: String(await freePort()), LOG_LEVEL: 'info' });
    await expect.poll(() => worker.output(), { timeout: 30_000, interval: 5 }).toMatch(/"msg":"starting"/);
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.output()).not.toMatch(/"msg":"worker consuming"/);
  });
});
