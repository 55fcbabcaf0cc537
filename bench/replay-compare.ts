// Replay's decisions against a reference build's (the current main's dist, say): simulated
// histories, in time order and shuffled out of it, with labels and a few bad lines, replayed by
// both builds; the decisions must be byte-identical apart from `decidedAt`, and the rejects
// files and summaries identical. Build first (`npm run build`); exits 1 at the first difference.
// Usage: npx tsx bench/replay-compare.ts --reference /path/to/main/dist [--events 50000] [--seed 7]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { reference: { type: 'string' }, events: { type: 'string', default: '50000' }, seed: { type: 'string', default: '7' }, model: { type: 'string', default: 'models/default.onnx' } } });
if (values.reference === undefined) throw new Error('--reference <dist dir> is required');
const dir = mkdtempSync(join(tmpdir(), 'fd-replay-compare-'));

const tx = join(dir, 'tx.jsonl');
const labels = join(dir, 'labels.jsonl');
execFileSync(process.execPath, ['dist/cli/main.js', 'simulate', '--out', tx, '--labels-out', labels, '--count', values.events, '--accounts', '2000', '--seed', values.seed, '--label-delay', '21600'], { stdio: ['ignore', 'ignore', 'inherit'] });

/** A deterministic shuffle of some lines: each line moved by up to `span` places, a bad line every 5,000. */
function shuffled(file: string, span: number, seed: number): string {
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  let s = seed;
  const random = (): number => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < lines.length; i++) {
    const j = Math.min(lines.length - 1, i + Math.floor(random() * span));
    [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
  }
  for (let i = 0; i < lines.length; i += 5000) lines.splice(i, 0, i % 10_000 === 0 ? '{"transactionId":' : '{}');
  const out = `${file}.shuffled-${span}`;
  writeFileSync(out, lines.join('\n') + '\n');
  return out;
}

const histories: { name: string; transactions: string; labels?: string }[] = [
  { name: 'in time order, no labels', transactions: tx },
  { name: 'in time order, labels', transactions: tx, labels },
  { name: 'transactions out of order, labels', transactions: shuffled(tx, 50, 1), labels },
  { name: 'both out of order, bad lines', transactions: shuffled(tx, 3, 2), labels: shuffled(labels, 20, 3) },
];

function replay(main: string, h: (typeof histories)[number], out: string): { decisions: string; rejects: string; summary: string } {
  const args = [main, 'replay', '--transactions', h.transactions, '--model', values.model, '--out', out, ...(h.labels !== undefined ? ['--labels', h.labels] : [])];
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${main} replay exited ${String(run.status)}: ${run.stderr}`);
  const summary = run.stderr.trim().split('\n').at(-1) ?? '';
  console.log(`  ${main}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const decisions = readFileSync(out, 'utf8').replace(/"decidedAt":"[^"]*"/g, '"decidedAt":""');
  return { decisions, rejects: readFileSync(`${out}.rejects.jsonl`, 'utf8'), summary: summary.replaceAll(out, 'OUT') };
}

let failed = false;
for (const h of histories) {
  console.log(h.name);
  const ours = replay('dist/cli/main.js', h, join(dir, 'ours.jsonl'));
  const theirs = replay(join(values.reference, 'cli/main.js'), h, join(dir, 'theirs.jsonl'));
  const same = { decisions: ours.decisions === theirs.decisions, rejects: ours.rejects === theirs.rejects, summary: ours.summary === theirs.summary };
  const lines = ours.decisions.split('\n').length - 1;
  console.log(`  ${lines} decisions; identical: decisions ${same.decisions}, rejects ${same.rejects}, summary ${same.summary} (${ours.summary})`);
  if (!same.decisions || !same.rejects || !same.summary) failed = true;
}
rmSync(dir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
