import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DeadlineError, killStragglers, track, within } from '../faults/bounds.js';

describe('the fault suite bounds its waits', () => {
  it('gives the work when it is done in time, and a DeadlineError naming it when not', async () => {
    await expect(within(Promise.resolve(7), 1000, 'quick')).resolves.toBe(7);
    await expect(within(Promise.reject(new Error('its own')), 1000, 'failing')).rejects.toThrow('its own');
    const never = new Promise<never>(() => undefined);
    const late = within(never, 50, 'the producer, flushing');
    await expect(late).rejects.toBeInstanceOf(DeadlineError);
    await expect(late).rejects.toThrow('the producer, flushing: not done after 0 s');
  });

  it('kills the processes it started that still run, and only those', async () => {
    const done = track(spawn(process.execPath, ['-e', '']));
    await new Promise((r) => done.once('exit', r));
    const sleeper = track(spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']));
    const exited = new Promise<NodeJS.Signals | null>((r) => sleeper.once('exit', (_, signal) => r(signal)));
    expect(killStragglers()).toBe(1);
    await expect(exited).resolves.toBe('SIGKILL');
    expect(killStragglers()).toBe(0);
  });
});
