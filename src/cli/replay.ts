// `fraud-detector replay`: the embedded offline mode. Runs the same feature, model and rule
// code over JSON-lines files in event-time order, on an in-memory store; no services needed.
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { applyLabels } from '../features/engine.js';
import { processBatch } from '../pipeline/process-batch.js';
import { replayInTimeOrder } from './timeline.js';
import { buildPipeline, featureSetFor, memoryStore, modelsFor } from './build.js';
import { byEventTime, closeStream, readLabels, readTransactions, rejectsWriter, writeLine, type TransactionLine } from './files.js';

interface ReplayFlags {
  transactions: string;
  labels?: string;
  rules?: string;
  model?: string;
  out: string;
  rejects?: string;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('decide a file of transactions offline, in event-time order, on an in-memory store')
    .requiredOption('--transactions <file>', 'transactions, one JSON object per line')
    .option('--labels <file>', 'labels, one JSON object per line: applied to label-fed features at the time each became known')
    .option('--rules <dir>', 'rules directory (default: RULES_DIR)')
    .option('--model <file>', 'the model to score with (default: MODEL_PATH; none: rules only)')
    .requiredOption('--out <file>', 'decisions, one JSON line per valid transaction, in input order')
    .option('--rejects <file>', 'bad lines with their line number and reason (default: <out>.rejects.jsonl)')
    .action(async (flags: ReplayFlags) => {
      const config = loadConfig(undefined, { ...(flags.rules ? { RULES_DIR: flags.rules } : {}), ...(flags.model ? { MODEL_PATH: flags.model } : {}) });
      const rejectsPath = flags.rejects ?? `${flags.out}.rejects.jsonl`;
      const rejects = rejectsWriter(rejectsPath);
      const lines = await readTransactions(flags.transactions, rejects.reject);
      const labelLines = flags.labels ? await readLabels(flags.labels, rejects.reject) : [];
      const labels = labelLines.length;
      const features = featureSetFor(config);
      const store = memoryStore(config);
      const models = await modelsFor(config, features);
      const pipeline = buildPipeline(config, store, 'all', features, models);
      const decisions = new Map<number, { json: string; outcome: 'allow' | 'review' | 'block' }>();
      await replayInTimeOrder(byEventTime(lines), labelLines, 1000, (due) => applyLabels(due, features, store), async (chunk) => {
        const outcome = await processBatch(chunk, (l) => l.tx, pipeline.deps);
        for (const d of outcome.decided) decisions.set((chunk[d.index] as TransactionLine).lineNo, { json: JSON.stringify(d.decision), outcome: d.outcome });
      });
      const out = createWriteStream(flags.out);
      const counts = { allow: 0, review: 0, block: 0 };
      for (const l of lines) {
        const d = decisions.get(l.lineNo) as { json: string; outcome: keyof typeof counts };
        counts[d.outcome]++;
        await writeLine(out, d.json);
      }
      await Promise.all([closeStream(out), rejects.close(), models.scorer.close(), models.challenger?.close()]);
      console.error(
        `replayed ${lines.length} transactions: ${counts.allow} allow, ${counts.review} review, ${counts.block} block → ${flags.out}` +
          `${labels > 0 ? `; ${labels} labels read` : ''}; ${rejects.count()} bad lines → ${rejectsPath}`,
      );
    });
}
