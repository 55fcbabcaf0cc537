// The operations kit against the real thing: a real Prometheus scrapes a real worker deciding a
// simulated stream, evaluates every recording and alert rule of deploy/prometheus, and answers
// every panel query of the Grafana dashboard. Every expression must parse; every recording
// rule and panel query must return data. promtool checks the live /metrics, the rules, and
// runs the rules' unit tests.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_SIMULATOR_OPTIONS, TransactionSimulator } from '../../src/simulate/simulator.js';
import { configEnv, runCli } from '../helpers/cli.js';
import { PrivatePrometheus } from '../helpers/prometheus.js';
import { freePort } from '../helpers/redis-server.js';
import { closePollingAdmin, produce } from '../helpers/services.js';
import { testWorld } from '../helpers/worker.js';

const run = promisify(execFile);
const RULES = 'deploy/prometheus/fraud-detector.rules.yaml';

interface RuleFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string; annotations?: Record<string, string> }[] }[];
}
interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
  templating: { list: { name: string }[] };
}

describe('promtool', () => {
  it('accepts the rules and passes their unit tests', async () => {
    const checked = await run('promtool', ['check', 'rules', RULES]);
    expect(checked.stdout).toMatch(/SUCCESS: 28 rules found/);
    const tested = await run('promtool', ['test', 'rules', 'deploy/prometheus/fraud-detector.rules.test.yaml']);
    expect(tested.stdout).toMatch(/SUCCESS/);
    // That every alert has a firing and a silent case and a runbook section: test/unit/deploy.test.ts.
  });
});

describe('a real Prometheus scraping a real worker', () => {
  const prometheus = new PrivatePrometheus();
  afterAll(async () => {
    await prometheus.stop();
    await closePollingAdmin();
  });

  it('parses every rule and panel query, and every recording rule and panel query returns data', async () => {
    const world = testWorld({ MODEL_PATH: 'models/default.onnx', CHALLENGER_MODEL_PATH: 'test/fixtures/models/alt.onnx', RULE_MAX_HIT_RATE: '0.5' });
    await world.setup();
    const port = await freePort();
    const worker = runCli(['run'], { ...configEnv(world.config), HTTP_PORT: String(port), LOG_LEVEL: 'warn' });
    try {
      const metricsUrl = `http://127.0.0.1:${port}/metrics`;
      await expect.poll(async () => (await fetch(metricsUrl).catch(() => null))?.status, { timeout: 30_000 }).toBe(200);
      await prometheus.start([{ address: `127.0.0.1:${port}`, labels: { pod: 'fraud-detector-0' } }], [RULES]);

      // Twenty seconds of simulated traffic, a few malformed events among it.
      const sim = new TransactionSimulator({ ...DEFAULT_SIMULATOR_OPTIONS, seed: 31, accounts: 2000, fraudRate: 0.02 });
      for (let s = 0; s < 20; s++) {
        const now = Date.now();
        const messages = Array.from({ length: 200 }, (_, i) => {
          const e = sim.next(now - 1000 + i * 5).event;
          return { key: e.accountId, value: i % 97 === 0 ? '{"transactionId": "cut' : JSON.stringify(e) };
        });
        await produce(world.config.TOPIC_TRANSACTIONS, messages);
        await new Promise((r) => setTimeout(r, 1000));
      }

      const scrape = await (await fetch(metricsUrl)).text();
      const promtool = run('promtool', ['check', 'metrics']);
      promtool.child.stdin?.end(scrape);
      await expect(promtool).resolves.toBeDefined();

      const rules = (parse(readFileSync(RULES, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);
      for (const r of rules.filter((x) => x.record !== undefined)) {
        const res = await prometheus.query(r.record as string);
        expect(res.status, r.record).toBe('success');
        expect(res.data?.result.length, `recording rule ${r.record} returns data`).toBeGreaterThan(0);
      }
      for (const r of rules.filter((x) => x.alert !== undefined)) {
        const res = await prometheus.query(r.expr);
        expect(res.status, `alert ${r.alert}: ${res.error ?? ''}`).toBe('success');
      }
      const dashboard = JSON.parse(readFileSync('deploy/grafana/fraud-detector.json', 'utf8')) as Dashboard;
      expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'pod']);
      for (const panel of dashboard.panels) {
        for (const target of panel.targets) {
          const expr = target.expr.replaceAll('$__rate_interval', '15s').replaceAll('$__range', '1m').replaceAll('$pod', '.*');
          const res = await prometheus.query(expr);
          expect(res.status, `${panel.title}: ${res.error ?? ''}`).toBe('success');
          expect(res.data?.result.length, `${panel.title}: ${expr} returns data`).toBeGreaterThan(0);
        }
      }
      // The pod variable's query finds the worker.
      expect((await prometheus.query('group by (pod) (fraud_detector_ready)')).data?.result.map((r) => r.metric.pod)).toEqual(['fraud-detector-0']);
    } finally {
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
    }
  }, 120_000);
});
