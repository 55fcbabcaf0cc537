// `fraud-detector alerts tail`: follows the alerts topic, one readable line per alert, with running counts.
import { randomUUID } from 'node:crypto';
import type { Command} from 'commander';
import { Option } from 'commander';
import { loadConfig } from '../config.js';
import { TAIL_GROUP_PREFIX } from '../kafka/acls.js';
import { createConsumer, kafkaSettings } from '../kafka/client.js';
import { handleSignals } from './early-signals.js';
import type { Decision } from '../contract/decision.js';
import { compileSchema } from '../contract/schema.js';

interface TailFlags {
  json: boolean;
  fromBeginning: boolean;
  metricsUrl?: string;
  summaryEvery: number;
}

export function registerAlerts(program: Command): void {
  program
    .command('alerts')
    .description('read the alerts topic')
    .command('tail')
    .description('follow alerts live: one line per alert, and every few seconds the running counts and throughput')
    .option('--json', 'print each alert as one JSON line (for scripts)', false)
    .option('--from-beginning', 'start from the oldest retained alert instead of new ones', false)
    .option('--metrics-url <url>', "a worker's /metrics, to show how many events it has decided per second")
    .addOption(new Option('--summary-every <seconds>', 'seconds between summary lines (0: none)').argParser(Number).default(5))
    .action(async (flags: TailFlags) => {
      const config = loadConfig();
      // A throw-away group: tailing never moves a real subscriber's offsets.
      const consumer = createConsumer(kafkaSettings(config), { groupId: `${TAIL_GROUP_PREFIX}${randomUUID()}`, maxBatchSize: 1000, startAt: flags.fromBeginning ? 'earliest' : 'latest' });
      const validate = compileSchema<Decision>('decision.schema.json');
      const counts = { review: 0, block: 0, invalid: 0 };
      const started = Date.now();
      let lastEvents: { at: number; total: number } | null = null;
      await consumer.connect();
      await consumer.subscribe({ topics: [config.TOPIC_ALERTS] });
      const stop = async (): Promise<void> => {
        clearInterval(timer);
        await consumer.disconnect();
        process.exit(0);
      };
      handleSignals(() => void stop());
      const timer = setInterval(() => {
        if (flags.summaryEvery <= 0 || flags.json) return;
        void summary(flags.metricsUrl, lastEvents).then((s) => {
          lastEvents = s.events ?? lastEvents;
          const secs = (Date.now() - started) / 1000;
          console.log(`── ${new Date().toISOString().slice(11, 19)}  alerts ${counts.review + counts.block} (review ${counts.review}, block ${counts.block}), ${((counts.review + counts.block) / secs).toFixed(1)} alerts/s${counts.invalid > 0 ? `, ${counts.invalid} records skipped (not decisions)` : ''}${s.text}`);
        });
      }, Math.max(1, flags.summaryEvery) * 1000);
      await consumer.run({
        eachMessage: ({ message }) => {
          const d = decisionOf(message.value, validate);
          if (typeof d === 'string') {
            // Not a decision (anyone with write access can produce to the topic): said on stderr, never printed as one.
            counts.invalid++;
            console.error(`fraud-detector: skipped a record that is not a decision (offset ${message.offset}): ${d}`);
            return Promise.resolve();
          }
          if (d.decision === 'review' || d.decision === 'block') counts[d.decision]++;
          console.log(flags.json ? JSON.stringify(d) : formatAlert(d));
          return Promise.resolve();
        },
      });
    });
}

/** The record's decision, or why it is not one. */
export function decisionOf(value: Buffer | null, validate: (data: unknown) => Decision): Decision | string {
  if (value === null) return 'empty value';
  try {
    return validate(JSON.parse(value.toString('utf8')));
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export function formatAlert(d: Decision): string {
  const amount = `${d.event.amount.toFixed(2)} ${d.event.currency}`;
  const reasons = d.topReasons.length > 0 ? d.topReasons.join('; ') : '-';
  const value = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(2));
  const top = d.contributions && d.contributions.length > 0 ? `  [model: ${d.contributions.slice(0, 3).map((c) => `${c.feature}=${value(c.value)}`).join(', ')}]` : '';
  return `${d.eventTime.slice(11, 19)}  ${d.decision.toUpperCase().padEnd(6)}  score ${d.score.toFixed(2)}  ${d.accountId}  ${amount.padStart(13)}  ${reasons}${top}`;
}

async function summary(url: string | undefined, last: { at: number; total: number } | null): Promise<{ text: string; events: { at: number; total: number } | null }> {
  if (!url) return { text: '', events: null };
  try {
    const body = await (await fetch(url)).text();
    let total = 0;
    for (const m of body.matchAll(/^fraud_detector_events_total\{[^}]*\} (\S+)$/gm)) total += Number(m[1]);
    const now = { at: Date.now(), total };
    const rate = last ? (total - last.total) / ((now.at - last.at) / 1000) : 0;
    return { text: ` │ detector: ${total} events decided, ${rate.toFixed(0)} events/s`, events: now };
  } catch {
    return { text: ' │ detector metrics unreachable', events: null };
  }
}
