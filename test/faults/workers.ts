// The workers of a scenario: `node dist/cli/main.js run` processes configured by environment,
// each with its own HTTP port and log file. Starts, SIGKILLs and drains them (SIGTERM, exit
// code recorded), and watches every live worker's /readyz.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/redis-server.js';
import { track } from './bounds.js';

/**
 * How long a worker may take to exit after SIGTERM before it counts as hung and is SIGKILLed:
 * its own bound (SHUTDOWN_TIMEOUT_MS, 60 s by default, after which it exits 1) and a margin.
 */
export const DRAIN_BOUND_MS = 90_000;

export interface WorkerProcess {
  name: string;
  port: number;
  log: string;
  child: ChildProcess;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Set once it was sent SIGKILL: its exit is not a drain. */
  killed: boolean;
  /** Set once it was sent SIGTERM. */
  draining: boolean;
  /** Set once it answered 200 on /readyz. */
  wasReady: boolean;
}

export interface DrainExit {
  worker: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  seconds: number;
  /** Whether it had been ready before its SIGTERM (one told to go while still starting had not). */
  wasReady: boolean;
  /** It had not exited DRAIN_BOUND_MS after its SIGTERM, and was SIGKILLed then. */
  hung: boolean;
  /** A hung drain: the last messages it logged, and its main thread's native stack (with gdb). */
  lastWords?: string[];
}

/** One probe of a worker's /readyz: 200, 503, or null when it did not answer. */
export interface ReadyProbe {
  worker: string;
  atMs: number;
  status: number | null;
}

export class WorkerFleet {
  private readonly workers: WorkerProcess[] = [];
  private serial = 0;
  readonly drains: Promise<DrainExit>[] = [];
  readonly probes: ReadyProbe[] = [];
  private prober: NodeJS.Timeout | null = null;

  /** `env`: the whole environment of every worker; `logDir`: where their logs go. */
  constructor(
    private readonly env: Record<string, string>,
    private readonly logDir: string,
    private readonly prefix = 'worker',
  ) {}

  live(): WorkerProcess[] {
    return this.workers.filter((w) => !w.killed && !w.draining && w.child.exitCode === null && w.child.signalCode === null);
  }

  all(): readonly WorkerProcess[] {
    return this.workers;
  }

  async start(): Promise<WorkerProcess> {
    const port = await freePort();
    const name = `${this.prefix}-${++this.serial}`;
    const log = join(this.logDir, `${name}.log`);
    const out = createWriteStream(log);
    const child = track(spawn(process.execPath, ['dist/cli/main.js', 'run'], { env: { ...this.env, HTTP_PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] }));
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => {
        out.end();
        resolve({ code, signal });
      }),
    );
    const worker: WorkerProcess = { name, port, log, child, exit, killed: false, draining: false, wasReady: false };
    this.workers.push(worker);
    return worker;
  }

  /** Resolves once the worker answers 200 on /readyz; rejects if it exits or `timeoutMs` passes. */
  async waitReady(worker: WorkerProcess, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (worker.child.exitCode !== null || worker.child.signalCode !== null) throw new Error(`${worker.name} exited before it was ready; see ${worker.log}`);
      if ((await readyz(worker.port)) === 200) {
        worker.wasReady = true;
        return;
      }
      await sleep(200);
    }
    throw new Error(`${worker.name} not ready after ${timeoutMs} ms; see ${worker.log}`);
  }

  async kill(worker: WorkerProcess): Promise<void> {
    worker.killed = true;
    worker.child.kill('SIGKILL');
    await worker.exit;
  }

  /**
   * Sends SIGTERM; the drain's exit is recorded in `drains` (awaited later, not here). A worker
   * still running DRAIN_BOUND_MS later is SIGKILLed, and its drain counts as hung.
   */
  drain(worker: WorkerProcess): Promise<DrainExit> {
    worker.draining = true;
    const t0 = Date.now();
    const wasReady = worker.wasReady;
    worker.child.kill('SIGTERM');
    let hung = false;
    const bound = setTimeout(() => {
      hung = true;
      // Where it hangs, for the report: every thread's native stack (when gdb is there), then the kill.
      void dumpStacks(worker.child.pid, `${worker.log}.stacks.txt`).finally(() => worker.child.kill('SIGKILL'));
    }, DRAIN_BOUND_MS);
    const done = worker.exit.then(({ code, signal }) => {
      clearTimeout(bound);
      const exit: DrainExit = { worker: worker.name, code, signal, seconds: (Date.now() - t0) / 1000, wasReady, hung };
      if (hung) exit.lastWords = [...lastMessages(worker.log, 6), ...mainThreadStack(`${worker.log}.stacks.txt`, 12)];
      return exit;
    });
    this.drains.push(done);
    return done;
  }

  /** Waits (up to `timeoutMs`) until every live worker has been ready once. */
  async waitAllReady(timeoutMs: number): Promise<void> {
    await Promise.all(this.live().filter((w) => !w.wasReady).map((w) => this.waitReady(w, timeoutMs).catch(() => undefined)));
  }

  async drainAll(): Promise<DrainExit[]> {
    for (const w of this.live()) void this.drain(w);
    return Promise.all(this.drains);
  }

  /** Probes every live worker's /readyz every `everyMs` until `stopProbing`. */
  startProbing(everyMs = 500): void {
    this.prober = setInterval(() => {
      for (const w of this.live()) {
        const atMs = Date.now();
        void readyz(w.port).then((status) => {
          if (status === 200) w.wasReady = true;
          this.probes.push({ worker: w.name, atMs, status });
        });
      }
    }, everyMs);
  }

  stopProbing(): void {
    if (this.prober) clearInterval(this.prober);
    this.prober = null;
  }

  /** SIGKILLs whatever still runs (after a failed scenario). */
  async killAll(): Promise<void> {
    this.stopProbing();
    await Promise.all(this.workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).map((w) => this.kill(w)));
  }
}

/** The last `n` messages of a worker's JSON log, with their times. */
function lastMessages(log: string, n: number): string[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').trim().split('\n').slice(-n).map((line) => {
    try {
      const j = JSON.parse(line) as { time?: string; msg?: string; err?: string };
      return `${j.time ?? ''} ${j.msg ?? ''}${j.err !== undefined ? `: ${j.err}` : ''}`;
    } catch {
      return line.slice(0, 200);
    }
  });
}

/** The main thread's state, and the first `n` frames of its stack if gdb wrote them (dumpStacks). */
function mainThreadStack(file: string, n: number): string[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const state = lines.find((l) => l.startsWith('main '));
  const at = lines.findIndex((l) => /^Thread 1 /.test(l));
  const frames = at < 0 ? [] : lines.slice(at + 1, at + 1 + n).filter((l) => l.startsWith('#')).map((l) => l.slice(0, 160));
  return [`main thread: ${state ?? 'unknown'}${frames.length > 0 ? '; its stack:' : ' (no gdb: no stack)'}`, ...frames];
}

/**
 * What each thread of `pid` is doing, from /proc: its name, state and the kernel function it
 * waits in (a main thread in futex_wait is blocked on a lock, not busy).
 */
function threadStates(pid: number): string[] {
  const out: string[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const dir = `/proc/${pid}/task/${tid}`;
      const stat = readFileSync(`${dir}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '?';
      const wchan = existsSync(`${dir}/wchan`) ? readFileSync(`${dir}/wchan`, 'utf8').trim() : '?';
      out.push(`${tid === String(pid) ? 'main' : tid} ${readFileSync(`${dir}/comm`, 'utf8').trim()} ${state} ${wchan}`);
    }
  } catch {
    // it exited meanwhile
  }
  return out;
}

/**
 * Writes each thread's state (threadStates) and, if gdb is installed, every thread's native
 * stack of `pid` to `file` (bounded: 30 s).
 */
function dumpStacks(pid: number | undefined, file: string): Promise<void> {
  if (pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const out = createWriteStream(file);
    out.write(`threads (tid, name, state, waiting in):\n${threadStates(pid).join('\n')}\n\n`);
    const gdb = spawn('gdb', ['-p', String(pid), '-batch', '-ex', 'thread apply all bt 30'], { stdio: ['ignore', 'pipe', 'pipe'] });
    gdb.stdout.pipe(out);
    gdb.stderr.pipe(out);
    const timer = setTimeout(() => gdb.kill('SIGKILL'), 30_000);
    gdb.once('error', () => resolve()); // no gdb: nothing to write
    gdb.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function readyz(port: number): Promise<number | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
    await res.text();
    return res.status;
  } catch {
    return null;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
