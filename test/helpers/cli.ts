// Runs the built CLI (dist/) as a user would, with a test world's configuration in its environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { CONFIG_KEYS, type Config } from '../../src/config.js';
import { freePort } from './redis-server.js';

export function configEnv(config: Config): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    env[key] = Array.isArray(value) ? value.join(',') : String(value);
  }
  return env;
}

export interface CliProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * The environment a CLI child starts from: this process's, without the detector's own settings
 * (scripts/test.sh exports the local services', REDIS_CLUSTER_NODES among them), so a child is
 * configured by what the test gives it and nothing else.
 */
function baseEnv(): Record<string, string | undefined> {
  const keys = new Set([...CONFIG_KEYS, ...CONFIG_KEYS.map((k) => `${k}_FILE`)]);
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !keys.has(key)));
}

export function runCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, ['dist/cli/main.js', ...args], { env: { ...baseEnv(), LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export interface WorkerProcess extends CliProcess {
  port: number;
  /** The worker's /metrics text ('' while it does not answer). */
  metrics: () => Promise<string>;
}

/** `fraud-detector run` as a process, with its HTTP server on a free port. */
export async function runWorker(config: Config, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const port = await freePort();
  const worker = runCli(['run'], { ...configEnv(config), HTTP_PORT: String(port), ...env });
  const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null))?.text() ?? '';
  return { ...worker, port, metrics };
}
