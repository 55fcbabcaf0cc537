// `fraud-detector replay`: the embedded offline mode. Runs the same feature, model and rule
// code over JSON-lines files in event-time order, on an in-memory store; no services needed.
import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { configWith, featureSetFor, modelsFor } from './build.js';
import { byEventTime, closeStream, readLabels, readTransactions, rejectsWriter, writeLine } from './files.js';
import { replayDecisions } from './timeline.js';

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
      const config = configWith({ RULES_DIR: flags.rules, MODEL_PATH: flags.model });
      const rejectsPath = flags.rejects ?? `${flags.out}.rejects.jsonl`;
      const rejects = rejectsWriter(rejectsPath);
      const lines = await readTransactions(flags.transactions, rejects.reject);
      const labelLines = flags.labels ? await readLabels(flags.labels, rejects.reject) : [];
      const labels = labelLines.length;
      const features = featureSetFor(config);
      const models = await modelsFor(config, features);
      const decisions = new Map<number, { json: string; outcome: 'allow' | 'review' | 'block' }>();
      await replayDecisions({ config, features, models, decisions: 'all' }, byEventTime(lines), labelLines, (d, line) => {
        decisions.set(line.lineNo, { json: JSON.stringify(d.decision), outcome: d.outcome });
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
