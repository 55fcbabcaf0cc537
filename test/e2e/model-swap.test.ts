// Hot swap under load: a running worker (the CLI, with MODEL_PATH) is handed a new model file
// while transactions stream in; it loads and checks the new model beside the old one, switches
// between batches, and decides every event; a broken file later is refused and the model stays.
import { copyFileSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision } from '../../src/contract/decision.js';
import { DEFAULT_SIMULATOR_OPTIONS, TransactionSimulator } from '../../src/simulate/simulator.js';
import { runWorker } from '../helpers/cli.js';
import { closePollingAdmin, consumeAll, produce } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

/** Copies a model's three files under the name `m` into dir, each written aside and renamed in. */
function install(from: string, dir: string): void {
  const stem = from.replace(/\.onnx$/, '');
  const trees = `${stem.split('/').at(-1) ?? ''}.trees.json`;
  copyFileSync(`${stem}.trees.json`, join(dir, trees));
  for (const [src, dst] of [[`${stem}.card.json`, 'm.card.json'], [from, 'm.onnx']] as const) {
    copyFileSync(src, join(dir, `${dst}.tmp`));
    renameSync(join(dir, `${dst}.tmp`), join(dir, dst));
  }
}

describe('model hot swap', () => {
  afterAll(() => closePollingAdmin());

  it('swaps models under load with no failed batch, and refuses a broken file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fd-swap-'));
    install('models/default.onnx', dir);
    const world = testWorld({ MODEL_PATH: join(dir, 'm.onnx'), MODEL_WATCH: 'false' });
    await world.setup();
    const worker = await runWorker(world.config);
    const metrics = worker.metrics;
    const champion = async (): Promise<string | undefined> => /fraud_detector_model_info\{version="([^"]+)",role="champion"\} 1/.exec(await metrics())?.[1];
    try {
      await expect.poll(champion, { timeout: 30_000 }).toMatch(/^default@/);
      const sim = new TransactionSimulator({ ...DEFAULT_SIMULATOR_OPTIONS, seed: 17, accounts: 3000 });
      const t0 = Date.now() - 3_600_000;
      const chunks = 12;
      const perChunk = 500;
      for (let c = 0; c < chunks; c++) {
        const txs = Array.from({ length: perChunk }, (_, i) => sim.next(t0 + (c * perChunk + i) * 500).event);
        await produce(world.config.TOPIC_TRANSACTIONS, txs.map((t) => ({ key: t.accountId, value: JSON.stringify(t) })));
        if (c === 5) {
          install('test/fixtures/models/alt.onnx', dir);
          worker.child.kill('SIGHUP');
        }
        await new Promise((r) => setTimeout(r, 150));
      }
      const decisions = (await consumeAll(world.config.TOPIC_DECISIONS, chunks * perChunk, 60_000)).map((m) => JSON.parse((m.value as Buffer).toString()) as Decision);
      expect(decisions).toHaveLength(chunks * perChunk);
      const versions = new Set(decisions.map((d) => d.modelVersion));
      expect([...versions].map((v) => v.split('@')[0]).sort()).toEqual(['alt', 'default']);
      await expect.poll(champion, { timeout: 10_000 }).toMatch(/^alt@/);
      const text = await metrics();
      expect(text).toMatch(/fraud_detector_reloads_total\{kind="model",result="success"\} 1/);
      expect(text).toMatch(/fraud_detector_reloads_total\{kind="model",result="failure"\} 0/);
      expect(text).toMatch(/fraud_detector_events_total\{outcome="dead_letter"\} 0/);

      writeFileSync(join(dir, 'm.onnx'), 'broken');
      worker.child.kill('SIGHUP');
      await expect.poll(metrics, { timeout: 10_000 }).toMatch(/fraud_detector_reloads_total\{kind="model",result="failure"\} 1/);
      expect(await champion()).toMatch(/^alt@/);
      expect(worker.output()).toMatch(/model reload refused; the running model stays/);
    } finally {
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
  });
});
