// Every wait of the fault suite has a bound, so a hang (a worker that does not exit on SIGTERM,
// a client that never returns) becomes a verdict with its reason instead of a suite that never
// ends. And every process the suite starts is known, so a suite that gives up kills them all.
import type { ChildProcess } from 'node:child_process';

export class DeadlineError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: not done after ${(ms / 1000).toFixed(0)} s`);
    this.name = 'DeadlineError';
  }
}

/** `work`, or a DeadlineError naming `what` once `ms` have passed (the work itself goes on). */
export function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

const children = new Set<ChildProcess>();

/** Records a process the suite started, until it exits. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** SIGKILLs every process the suite started that still runs; how many there were. */
export function killStragglers(): number {
  let n = 0;
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      n++;
    }
  }
  children.clear();
  return n;
}
