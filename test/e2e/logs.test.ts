// The worker's logs at info level: JSON lines with a level and a message, and no card number,
// IP address, account id or raw event in any of them, through malformed events, a refused
// reload of a list that holds card numbers, and a drain.
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runWorker } from '../helpers/cli.js';
import { at, tx } from '../helpers/events.js';
import { closePollingAdmin, consumeAll, produce } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

describe('worker logs', () => {
  afterAll(() => closePollingAdmin());

  it('carry no identifiers and no raw events at info level', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-logs-'));
    cpSync('rules/default.yaml', join(dir, 'default.yaml'));
    const world = testWorld({ RULES_DIR: dir, MODEL_PATH: 'models/default.onnx' });
    await world.setup();
    const worker = await runWorker(world.config, { LOG_LEVEL: 'info' });
    try {
      await expect.poll(async () => (await fetch(`http://127.0.0.1:${worker.port}/readyz`).catch(() => null))?.status, { timeout: 30_000 }).toBe(200);
      const T = new Date(Date.now() - 600_000).toISOString();
      const events = Array.from({ length: 40 }, (_, i) => tx({ transactionId: `secret-tx-${i}`, accountId: `secret-acct-${i % 4}`, cardId: `4111111111111${String(i).padStart(3, '0')}`, ipAddress: `203.0.113.${i + 1}`, deviceId: `secret-dev-${i}`, amount: 1 + i, channel: 'ecom', timestamp: at(T, i * 5000) }));
      await produce(world.config.TOPIC_TRANSACTIONS, [
        ...events.map((e) => ({ key: e.accountId, value: JSON.stringify(e) })),
        { key: 'secret-acct-0', value: JSON.stringify({ ...events[0], transactionId: 'secret-bad', amount: 'lots' }) },
        { key: 'secret-acct-0', value: '{"transactionId": "secret-cut' },
      ]);
      await consumeAll(world.config.TOPIC_DLQ, 2, 30_000);
      // A list with a card number on a line of two values: refused, and logged.
      mkdirSync(join(dir, 'lists'));
      writeFileSync(join(dir, 'lists', 'stolen.txt'), '4111111111111999 4111111111111998\n');
      await expect.poll(() => worker.output(), { timeout: 10_000 }).toMatch(/rules reload refused/);
    } finally {
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
    const lines = worker.output().trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      const entry = JSON.parse(line) as { level: number; msg: string };
      expect(typeof entry.level).toBe('number');
      expect(typeof entry.msg).toBe('string');
    }
    const text = worker.output();
    expect(text).toMatch(/"msg":"stopped cleanly"/);
    expect(text).not.toMatch(/4111111111111|203\.0\.113\.|secret-/);
  }, 90_000);
});
