// Offline replay benchmark: simulated history (the simulator, in a child process) decided by
// `replay` with the default features and the shipped model, in this process; prints events/s,
// wall and CPU time, and peak RSS. Build first (`npm run build`): the simulator runs from dist.
// `--labels` writes a label per transaction; `--max-labels N` keeps the first N (those known
// first). `--shuffle` draws each transaction from a pool of the next 50, so the file is out of time order.
// `--threads 1` decides on one thread (replay's default is two: offline/threaded-decider.ts).
// Usage: npx tsx bench/replay.ts [--events 200000] [--accounts 5000] [--labels] [--max-labels N] [--shuffle] [--seed 3] [--threads 2]
// (CPU per transaction on one core: nice -n 19 taskset -c 1 npx tsx bench/replay.ts --threads 1 ...)
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { configWith, eventLimits, featureSetFor, memoryStore, modelsFor, offlinePipeline } from '../src/cli/build.js';
import { startDecider } from '../src/cli/replay.js';
import { replayFiles } from '../src/offline/replay.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    accounts: { type: 'string', default: '5000' },
    labels: { type: 'boolean', default: false },
    'max-labels': { type: 'string' },
    shuffle: { type: 'boolean', default: false },
    seed: { type: 'string', default: '3' },
    model: { type: 'string', default: 'models/default.onnx' },
    threads: { type: 'string', default: '2' },
  },
});
const dir = mkdtempSync(join(tmpdir(), 'fd-bench-replay-'));
const files = { transactions: join(dir, 'tx.jsonl'), labels: values.labels ? join(dir, 'labels.jsonl') : undefined, out: join(dir, 'decisions.jsonl'), rejects: join(dir, 'rejects.jsonl') };

const simulate = ['dist/cli/main.js', 'simulate', '--out', files.transactions, '--count', values.events, '--accounts', values.accounts, '--seed', values.seed, ...(files.labels ? ['--labels-out', files.labels] : [])];
execFileSync(process.execPath, simulate, { stdio: ['ignore', 'ignore', 'inherit'] });
if (files.labels !== undefined && values['max-labels'] !== undefined) await rewrite(files.labels, firstLines(Number(values['max-labels'])));
if (values.shuffle) await rewrite(files.transactions, shuffled(50));

/** Rewrites a file line by line through `edit`, streamed (this process's peak RSS is measured). */
async function rewrite(file: string, edit: (lines: AsyncIterable<string>) => AsyncGenerator<string>): Promise<void> {
  const out = createWriteStream(`${file}.edited`);
  for await (const line of edit(createInterface({ input: createReadStream(file) }))) {
    if (!out.write(line + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  renameSync(`${file}.edited`, file);
}

function firstLines(count: number) {
  return async function* (lines: AsyncIterable<string>): AsyncGenerator<string> {
    let n = 0;
    for await (const line of lines) if (n++ < count) yield line;
  };
}

/** Each line out of a pool of `span` lines, picked by a fixed pseudo-random sequence: out of time order, by a bounded amount. */
function shuffled(span: number) {
  return async function* (lines: AsyncIterable<string>): AsyncGenerator<string> {
    const pool: string[] = [];
    let s = 1;
    const pick = (): string => {
      s = (s * 48_271) % 2_147_483_647;
      const i = s % pool.length;
      const line = pool[i] as string;
      pool[i] = pool[pool.length - 1] as string;
      pool.pop();
      return line;
    };
    for await (const line of lines) {
      pool.push(line);
      if (pool.length === span) yield pick();
    }
    while (pool.length > 0) yield pick();
  };
}

const config = configWith({ MODEL_PATH: values.model });
const features = featureSetFor(config);
const models = await modelsFor(config, features);
const deps = offlinePipeline(config, features, { decisions: 'all', models });
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const decider = values.threads === '1' ? undefined : await startDecider({ MODEL_PATH: values.model }, features.names);
const r = await replayFiles(deps, () => memoryStore(config), eventLimits(config), files, { decider });
await decider?.close();
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await models.scorer.close();
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(`${r.transactions} transactions (${values.accounts} accounts, ${values.threads} thread(s)), ${r.labels} labels, ${r.streamed ? 'streamed (in time order)' : 'sorted in bounded memory'}: ${r.outcomes.allow} allow, ${r.outcomes.review} review, ${r.outcomes.block} block`);
console.log(`wall ${wall.toFixed(2)} s, ${Math.round(r.transactions / wall)} events/s; CPU ${cpuSeconds.toFixed(2)} s (${Math.round(r.transactions / cpuSeconds)} events per CPU-second); peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
rmSync(dir, { recursive: true, force: true });
