// The handbook's test-week metrics from `replay`'s decisions: AUC ROC, average precision and card
// precision@100 of the model's scores over every transaction of the test week, and over the
// handbook's test set (cards known to be compromised by each test day's start left out). Run by
// scripts/handbook-benchmark.sh:
//   npx tsx bench/handbook-metrics.ts --decisions d.jsonl --labels l.jsonl --train-from T --test-from T --test-until T [--delay-days 7]
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { handbookTestSet } from '../src/models/handbook-test-set.js';
import { rankingMetrics, type CardScored } from '../src/models/metrics.js';

interface DecisionLine {
  transactionId: string;
  score: number;
  eventTime: string;
  event: { accountId: string; cardId?: string };
}

async function* lines(file: string): AsyncGenerator<string> {
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) if (line !== '') yield line;
}

const time = (name: string, text: string | undefined): number => {
  const ms = Date.parse(text ?? '');
  if (!Number.isFinite(ms)) throw new Error(`--${name}: not a time: ${String(text)}`);
  return ms;
};

const { values } = parseArgs({ options: { decisions: { type: 'string' }, labels: { type: 'string' }, 'train-from': { type: 'string' }, 'test-from': { type: 'string' }, 'test-until': { type: 'string' }, 'delay-days': { type: 'string', default: '7' } } });
if (values.decisions === undefined || values.labels === undefined) throw new Error('--decisions and --labels are required');
const period = { trainFromMs: time('train-from', values['train-from']), testFromMs: time('test-from', values['test-from']), testUntilMs: time('test-until', values['test-until']), delayMs: Number(values['delay-days']) * 86_400_000 };

const fraudIds = new Set<string>();
for await (const line of lines(values.labels)) {
  const l = JSON.parse(line) as { transactionId: string; label: string };
  if (l.label === 'fraud') fraudIds.add(l.transactionId);
  else fraudIds.delete(l.transactionId);
}
const rows: CardScored[] = [];
const frauds: { card: string; timeMs: number }[] = [];
for await (const line of lines(values.decisions)) {
  const d = JSON.parse(line) as DecisionLine;
  const row = { card: d.event.cardId ?? d.event.accountId, timeMs: Date.parse(d.eventTime), fraud: fraudIds.has(d.transactionId), score: d.score };
  if (row.fraud) frauds.push(row);
  if (row.timeMs >= period.testFromMs && row.timeMs < period.testUntilMs) rows.push(row);
}
const handbook = handbookTestSet(rows, frauds, period);
const count = (r: readonly CardScored[]): { transactions: number; frauds: number } => ({ transactions: r.length, frauds: r.filter((x) => x.fraud).length });
console.log(JSON.stringify({ all: { ...count(rows), ...rankingMetrics(rows) }, handbookTestSet: { ...count(handbook), ...rankingMetrics(handbook) } }));
