// A private real Prometheus (Debian's `prometheus`) on loopback, with a temporary config that
// scrapes given targets every second and evaluates the given rule files every second.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './redis-server.js';

export interface PromResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] };
}

export class PrivatePrometheus {
  private child: ChildProcess | null = null;
  private port = 0;
  private output = '';

  async start(targets: { address: string; labels: Record<string, string> }[], ruleFiles: string[]): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'fd-prometheus-'));
    this.port = await freePort();
    const config = [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      `rule_files: [${ruleFiles.map((f) => JSON.stringify(resolve(f))).join(', ')}]`,
      'scrape_configs:',
      '  - job_name: fraud-detector',
      '    static_configs:',
      ...targets.map((t) => `      - { targets: [${JSON.stringify(t.address)}], labels: ${JSON.stringify(t.labels)} }`),
      '',
    ].join('\n');
    writeFileSync(join(dir, 'prometheus.yml'), config);
    this.child = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${this.port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`http://127.0.0.1:${this.port}/-/ready`).catch(() => null))?.ok) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`prometheus did not become ready: ${this.output.slice(-2000)}`);
  }

  async query(expr: string): Promise<PromResult> {
    const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await res.json()) as PromResult;
  }

  async stop(): Promise<void> {
    if (!this.child) return;
    const exited = new Promise((r) => this.child?.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
    this.child = null;
  }
}
