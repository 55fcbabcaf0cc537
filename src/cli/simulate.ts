// `fraud-detector simulate`: a seeded stream of transactions with injected fraud, to Kafka or to files.
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { loadConfig } from '../config.js';
import { createProducer, kafkaSettings } from '../kafka/client.js';
import { LabelQueue } from '../simulate/label-queue.js';
import { Random } from '../simulate/random.js';
import { handleSignals } from './early-signals.js';
import { closeStream, writeLine } from '../offline/output-lines.js';
import { DEFAULT_SIMULATOR_OPTIONS, rhythm, TransactionSimulator, type SimulatedTransaction } from '../simulate/simulator.js';
import { HANDBOOK_DEFAULTS, type HandbookOptions } from '../simulate/handbook.js';
import { formatHandbookSummary, writeHandbookFiles } from './simulate-handbook.js';

interface SimulateFlags {
  rate?: number;
  count?: number;
  seed: number;
  accounts: number;
  fraudRate: number;
  malformedRate: number;
  out?: string;
  labelsOut?: string;
  labelDelay?: number;
  start: string;
  handbook?: boolean;
  days: number;
  terminals: number;
}

const num = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`not a number: ${v}`);
  return n;
};

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('generate transactions with injected fraud: live to Kafka at --rate, or to files with --out')
    .addOption(new Option('--rate <events/s>', 'events per second (live, default 300); with --out, the mean simulated arrival rate, shaped by the hour and the weekday (default: 5 payments per account per day)').argParser(num))
    .addOption(new Option('--count <n>', 'stop after n events (default: run until Ctrl-C when live)').argParser(num))
    .addOption(new Option('--seed <n>', 'random seed').argParser(num).default(DEFAULT_SIMULATOR_OPTIONS.seed))
    .addOption(new Option('--accounts <n>', 'number of customer accounts').argParser(num).default(DEFAULT_SIMULATOR_OPTIONS.accounts))
    .addOption(new Option('--fraud-rate <p>', 'share of events that start a fraud episode').argParser(num).default(DEFAULT_SIMULATOR_OPTIONS.fraudRate))
    .addOption(new Option('--malformed-rate <p>', 'share of deliberately malformed events (live only)').argParser(num).default(0))
    .option('--out <file>', 'write transactions as JSON lines instead of producing to Kafka')
    .option('--labels-out <file>', 'with --out: write fraud/legit labels here, timestamped when they become known')
    .addOption(new Option('--label-delay <seconds>', 'mean delay before a label is known (default: 3 days with --out, 60 s live, where labels go to TOPIC_LABELS)').argParser(num))
    .option('--start <iso>', 'with --out: event time of the first transaction (--handbook: its first day, default 2018-04-01)', '2026-01-01T00:00:00Z')
    .option('--handbook', "with --out: the simulator of Le Borgne et al.'s fraud detection handbook instead (--accounts customers, default 5,000; --terminals; --days; labels known --label-delay after, default 7 days)")
    .addOption(new Option('--days <n>', 'with --handbook: days of history').argParser(num).default(HANDBOOK_DEFAULTS.days))
    .addOption(new Option('--terminals <n>', 'with --handbook: number of terminals (merchantId)').argParser(num).default(HANDBOOK_DEFAULTS.terminals))
    .action(async (flags: SimulateFlags, command: Command) => {
      if (flags.handbook === true) {
        // A flag that does not fit is a usage error: commander prints it and exits 1.
        let options: HandbookOptions;
        try {
          options = handbookOptions(flags, (name) => command.getOptionValueSource(name) === 'default');
        } catch (err) {
          command.error(`error: ${(err as Error).message}`);
        }
        await handbookToFiles(options, flags);
        return;
      }
      const labelDelayMs = flags.labelDelay !== undefined ? flags.labelDelay * 1000 : flags.out ? DEFAULT_SIMULATOR_OPTIONS.labelDelayMs : 60_000;
      const sim = new TransactionSimulator({ ...DEFAULT_SIMULATOR_OPTIONS, seed: flags.seed, accounts: flags.accounts, fraudRate: flags.fraudRate, labelDelayMs });
      if (flags.out) await toFiles(sim, flags);
      else await toKafka(sim, flags);
    });
}

/** The handbook's settings: its own defaults where a flag was left at the regular simulator's. */
function handbookOptions(flags: SimulateFlags, isDefault: (name: string) => boolean): HandbookOptions {
  if (flags.out === undefined) throw new Error('--handbook writes files: give --out (and --labels-out)');
  if (flags.count !== undefined || flags.rate !== undefined) throw new Error('--handbook: the history is --days long; --count and --rate do not apply');
  const startMs = isDefault('start') ? HANDBOOK_DEFAULTS.startMs : Date.parse(flags.start);
  if (!Number.isFinite(startMs)) throw new Error(`--start: not an ISO time: ${flags.start}`);
  const whole = (name: string, v: number): number => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name}: a whole number ≥ 1, not ${v}`);
    return v;
  };
  return {
    ...HANDBOOK_DEFAULTS,
    seed: isDefault('seed') ? HANDBOOK_DEFAULTS.seed : flags.seed,
    customers: isDefault('accounts') ? HANDBOOK_DEFAULTS.customers : whole('accounts', flags.accounts),
    terminals: whole('terminals', flags.terminals),
    days: whole('days', flags.days),
    startMs,
    labelDelayMs: flags.labelDelay !== undefined ? flags.labelDelay * 1000 : HANDBOOK_DEFAULTS.labelDelayMs,
  };
}

async function handbookToFiles(options: HandbookOptions, flags: SimulateFlags): Promise<void> {
  const files = { transactions: flags.out as string, labels: flags.labelsOut };
  console.error(formatHandbookSummary(await writeHandbookFiles(options, files), files));
}

async function toFiles(sim: TransactionSimulator, flags: SimulateFlags): Promise<void> {
  const count = flags.count ?? 100_000;
  const tx = createWriteStream(flags.out as string);
  const labels = flags.labelsOut ? createWriteStream(flags.labelsOut) : null;
  let t = Date.parse(flags.start);
  if (!Number.isFinite(t)) throw new Error(`--start: not an ISO time: ${flags.start}`);
  const pendingLabels: { at: number; line: string }[] = [];
  let fraud = 0;
  const arrivals = new Random(flags.seed + 1);
  const rate = flags.rate ?? (flags.accounts * 5) / 86_400;
  for (let i = 0; i < count; i++) {
    t += Math.max(1, Math.round(arrivals.exponential(1000 / (rate * rhythm(t)))));
    const s = sim.next(t);
    if (s.fraud) fraud++;
    await writeLine(tx, JSON.stringify(s.event));
    if (labels) {
      const label = sim.labelFor(s);
      pendingLabels.push({ at: Date.parse(label.timestamp), line: JSON.stringify(label) });
    }
  }
  await closeStream(tx);
  if (labels) {
    pendingLabels.sort((a, b) => a.at - b.at);
    for (const l of pendingLabels) await writeLine(labels, l.line);
    await closeStream(labels);
  }
  console.error(`wrote ${count} transactions (${fraud} fraudulent) to ${flags.out}${labels ? ` and ${count} labels to ${flags.labelsOut}` : ''}`);
}

async function toKafka(sim: TransactionSimulator, flags: SimulateFlags): Promise<void> {
  const config = loadConfig();
  const producer = createProducer(kafkaSettings(config));
  await producer.connect();
  let stop = false;
  handleSignals(() => (stop = true));
  const tickMs = 100;
  const rate = flags.rate ?? 300;
  let sent = 0;
  let fraud = 0;
  let malformed = 0;
  let lastReport = Date.now();
  const started = Date.now();
  // Labels wait until the time they become known, then go to TOPIC_LABELS.
  const labels = new LabelQueue();
  let labelled = 0;
  while (!stop && (flags.count === undefined || sent < flags.count)) {
    const due = Math.min(flags.count ?? Infinity, Math.floor(((Date.now() - started) / 1000) * rate)) - sent;
    const messages = [];
    for (let i = 0; i < due; i++) {
      const s: SimulatedTransaction = sim.next(Date.now());
      if (s.fraud) fraud++;
      if (Math.random() < flags.malformedRate) {
        malformed++;
        messages.push({ key: s.event.accountId, value: Math.random() < 0.5 ? '{"transactionId": "broken' : JSON.stringify({ ...s.event, amount: 'lots' }) });
      } else {
        messages.push({ key: s.event.accountId, value: JSON.stringify(s.event) });
        const label = sim.labelFor(s);
        labels.push({ at: Date.parse(label.timestamp), key: label.accountId, value: JSON.stringify(label) });
      }
    }
    if (messages.length > 0) await producer.send({ topic: config.TOPIC_TRANSACTIONS, messages });
    sent += messages.length;
    const dueLabels = labels.due(Date.now());
    if (dueLabels.length > 0) await producer.send({ topic: config.TOPIC_LABELS, messages: dueLabels.map(({ key, value }) => ({ key, value })) });
    labelled += dueLabels.length;
    if (Date.now() - lastReport >= 5000) {
      console.error(`[simulate] sent ${sent} events (${fraud} in fraud episodes, ${malformed} malformed), ${labelled} labels`);
      lastReport = Date.now();
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  await producer.flush({ timeout: 10_000 });
  await producer.disconnect();
  console.error(`[simulate] done: sent ${sent} events (${fraud} in fraud episodes, ${malformed} malformed)`);
}
