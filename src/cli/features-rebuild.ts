// `fraud-detector features rebuild --since <time>`: after Redis lost its data, applies the
// transactions and labels topics again, from the offsets for that time up to what the workers
// had committed, with the engine `run` uses. Progress on stderr.
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { WallClock } from '../features/clock.js';
import { isLabelEntity } from '../features/definitions.js';
import { kafkaSettings } from '../kafka/client.js';
import { rangesToRebuild, readRanges } from '../kafka/rebuild.js';
import { HistoryApplier, type HistoryKind } from '../pipeline/rebuild.js';
import { eventLimits, featureSetFor, longestWindowMs, redisStore } from './build.js';

interface RebuildFlags {
  since?: string;
  dryRun: boolean;
}

export function registerRebuild(features: Command): void {
  features
    .command('rebuild')
    .description('rebuild the feature state in Redis from the transactions and labels topics (after Redis lost its data; stop the workers first)')
    .option('--since <time>', 'an ISO time, or a duration back from now such as 30d or 36h (default: the longest window plus the allowed lateness)')
    .option('--dry-run', 'print the offset ranges it would read, and stop', false)
    .action(async (flags: RebuildFlags) => {
      const config = loadConfig();
      const set = featureSetFor(config);
      const sinceMs = flags.since === undefined ? Date.now() - longestWindowMs(set) - config.ALLOWED_LATENESS_MS : parseSince(flags.since, Date.now());
      const settings = kafkaSettings(config);
      const labelsGroup = config.KAFKA_LABELS_GROUP_ID ?? `${config.KAFKA_GROUP_ID}-labels`;
      const ranges = [
        ...(await rangesToRebuild(settings, config.TOPIC_TRANSACTIONS, config.KAFKA_GROUP_ID, sinceMs)),
        ...(set.entities.some((e) => isLabelEntity(e.entity)) ? await rangesToRebuild(settings, config.TOPIC_LABELS, labelsGroup, sinceMs) : []),
      ];
      const total = ranges.reduce((n, r) => n + Number(r.to - r.from), 0);
      console.error(`rebuild since ${new Date(sinceMs).toISOString()}: ${total} records in ${ranges.length} partition range(s)`);
      for (const r of ranges) console.error(`  ${r.topic}[${r.partition}] offsets ${r.from} to ${r.to - 1n}`);
      if (flags.dryRun || total === 0) return;
      const store = redisStore(config, {}, set);
      const partitions = (topic: string): number[] => ranges.filter((r) => r.topic === topic).map((r) => r.partition);
      const kind = (topic: string): HistoryKind => (topic === config.TOPIC_TRANSACTIONS ? 'transactions' : 'labels');
      const applier = new HistoryApplier(set, store, new WallClock(config.MAX_FUTURE_SKEW_MS), {
        eventLimits: eventLimits(config),
        chunk: config.BATCH_MAX_SIZE,
        partitions: { transactions: partitions(config.TOPIC_TRANSACTIONS), labels: partitions(config.TOPIC_LABELS) },
      });
      const started = Date.now();
      const done = (): number => applier.counts.transactions + applier.counts.labels + applier.counts.skipped;
      const progress = setInterval(() => console.error(progressLine(done(), total, started)), 2000);
      try {
        await readRanges(settings, ranges, { maxBatchSize: config.BATCH_MAX_SIZE, maxQueued: 10 * config.BATCH_MAX_SIZE }, {
          batch: (topic, partition, messages) => applier.add(kind(topic), partition, messages.map((m) => m.value)),
          done: (topic, partition) => applier.close(kind(topic), partition),
          queued: (topic, partition) => applier.queued(kind(topic), partition),
        });
      } finally {
        clearInterval(progress);
        await store.close();
      }
      const { transactions, labels, skipped } = applier.counts;
      const secs = (Date.now() - started) / 1000;
      console.error(`rebuilt: ${transactions} transactions and ${labels} labels applied, ${skipped} invalid records skipped, in ${secs.toFixed(1)} s (${Math.round(done() / Math.max(secs, 0.001))} events/s)`);
    });
}

function progressLine(done: number, total: number, started: number): string {
  const secs = (Date.now() - started) / 1000;
  return `  ${done} / ${total} (${((100 * done) / Math.max(total, 1)).toFixed(0)}%), ${Math.round(done / Math.max(secs, 0.001))} events/s`;
}

/** An ISO time, or `<n>d`, `<n>h` or `<n>m` back from `now`. */
export function parseSince(text: string, now: number): number {
  const back = /^(\d+)([dhm])$/.exec(text);
  if (back) return now - Number(back[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[back[2] as 'd' | 'h' | 'm'];
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new Error(`--since: not an ISO time nor a duration such as 30d: ${text}`);
  return at;
}
