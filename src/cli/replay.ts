// `fraud-detector replay`: the embedded offline mode. Parses the flags and calls the offline
// driver (offline/replay.ts): the same validation, feature, model and rule code as `run`, over
// JSON-lines files in event-time order, on an in-memory store; no services needed.
import type { Command } from 'commander';
import { replayFiles } from '../offline/replay.js';
import { ThreadedDecider, type DecideThreadData } from '../offline/threaded-decider.js';
import { startModuleThread } from '../thread-start.js';
import { configWith, eventLimits, featureSetFor, memoryStore, modelsFor, offlinePipeline } from './build.js';

interface ReplayFlags {
  transactions: string;
  labels?: string;
  rules?: string;
  model?: string;
  out: string;
  rejects?: string;
  threads: string;
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
    .option('--rejects <file>', 'bad lines with their line number, code (as run\'s dead letters) and reason (default: <out>.rejects.jsonl)')
    .option('--threads <n>', 'threads deciding a file in time order: 2 computes the features of a chunk while the other thread scores and writes the last one; 1 does both on one', '2')
    .action(async (flags: ReplayFlags) => {
      if (flags.threads !== '1' && flags.threads !== '2') throw new Error(`--threads: 1 or 2, not ${flags.threads}`);
      const overrides = { RULES_DIR: flags.rules, MODEL_PATH: flags.model };
      const config = configWith(overrides);
      const features = featureSetFor(config);
      const models = await modelsFor(config, features);
      const rejects = flags.rejects ?? `${flags.out}.rejects.jsonl`;
      let decider: ThreadedDecider | undefined;
      try {
        const deps = offlinePipeline(config, features, { decisions: 'all', models });
        if (flags.threads === '2') decider = await startDecider(overrides, features.names);
        const r = await replayFiles(deps, () => memoryStore(config), eventLimits(config), { transactions: flags.transactions, labels: flags.labels, out: flags.out, rejects }, { decider });
        const codes = [...r.rejectedByCode].map(([code, n]) => `${n} ${code}`).join(', ');
        console.error(
          `replayed ${r.transactions} transactions: ${r.outcomes.allow} allow, ${r.outcomes.review} review, ${r.outcomes.block} block → ${flags.out}` +
            `${r.labels > 0 ? `; ${r.labels} labels read` : ''}; ${r.rejected} bad lines → ${rejects}${codes ? ` (${codes})` : ''}`,
        );
      } finally {
        await Promise.all([models.scorer.close(), models.challenger?.close(), decider?.close()]);
      }
    });
}

/**
 * The decide thread's young generation. It allocates a chunk's decisions (their objects and
 * their JSON) at once; with V8's default the replay took about a tenth more CPU (875,000
 * transactions with labels: 45–52 CPU seconds at 96 MB against 53–57, 3 runs each).
 */
const DECIDE_THREAD_YOUNG_MB = 96;

/** replay's decide thread, built from the same overrides as the main thread's pipeline. */
export function startDecider(overrides: Record<string, string | undefined>, featureNames: readonly string[]): Promise<ThreadedDecider> {
  return ThreadedDecider.start(startModuleThread(import.meta.url, './decide-thread', { overrides, featureNames } satisfies DecideThreadData, { maxYoungGenerationSizeMb: DECIDE_THREAD_YOUNG_MB }));
}
