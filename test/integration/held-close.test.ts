// A process ending while a Kafka consumer's close is held by a rebalance, against the real
// broker: process.exit() would wait for that close forever (librdkafka closes on libuv's pool
// and waits for the rebalance callback, which only the main thread serves, and exit joins the
// pool), so the worker ends by SIGKILL instead, after saying why.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopics, deleteTopics, uniqueName } from '../helpers/services.js';

const topic = uniqueName('held-close');

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  /** Still running `waitMs` after it said it was exiting (then killed). */
  hung: boolean;
}

/** Runs the held-close process; gives it `waitMs` after its "exiting" line. */
function run(how: 'exit-process' | 'process-exit', waitMs: number): Promise<Ended> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/held-close.ts', topic, how], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let hung = false;
    let timer: NodeJS.Timeout | undefined;
    const overall = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const take = (chunk: Buffer): void => {
      output += chunk.toString();
      if (timer === undefined && output.includes('"msg":"exiting"')) {
        timer = setTimeout(() => {
          hung = true;
          child.kill('SIGKILL');
        }, waitMs);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(overall);
      resolve({ code, signal, output, hung });
    });
  });
}

describe('exiting while a consumer close is held by a rebalance', () => {
  beforeAll(() => createTopics([{ topic, partitions: 2 }]));
  afterAll(() => deleteTopics([topic]));

  it('process.exit() would hang: the hazard is real', async () => {
    const ended = await run('process-exit', 8_000);
    expect(ended.output).toContain('"closing":["transactions"]');
    expect(ended.hung).toBe(true);
  }, 90_000);

  it('the worker ends at once by SIGKILL, saying which client was still closing', async () => {
    const ended = await run('exit-process', 8_000);
    expect(ended.hung).toBe(false);
    expect(ended.signal).toBe('SIGKILL');
    expect(ended.output).toMatch(/"clients":\["transactions"\].*ending by SIGKILL/);
  }, 90_000);
});
