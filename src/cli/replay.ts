// `fraud-detector replay`: the embedded offline mode. Runs the same feature, model and rule
// code over JSON-lines files in event-time order, on an in-memory store; no services needed.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { InvalidEventError } from '../contract/errors.js';
import { compileSchema } from '../contract/schema.js';
import { toParsedTransaction, type ParsedTransaction } from '../contract/transaction.js';
import { processBatch } from '../pipeline/process-batch.js';
import { buildPipeline, memoryStore } from './build.js';

interface ReplayFlags {
  transactions: string;
  labels?: string;
  rules?: string;
  out: string;
  rejects?: string;
}

interface Line {
  lineNo: number;
  tx: ParsedTransaction;
}

const validateLabel = compileSchema<{ transactionId: string }>('label.schema.json');

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('decide a file of transactions offline, in event-time order, on an in-memory store')
    .requiredOption('--transactions <file>', 'transactions, one JSON object per line')
    .option('--labels <file>', 'labels, one JSON object per line (validated; label-fed features are not built yet)')
    .option('--rules <dir>', 'rules directory (default: RULES_DIR)')
    .requiredOption('--out <file>', 'decisions, one JSON line per valid transaction, in input order')
    .option('--rejects <file>', 'bad lines with their line number and reason (default: <out>.rejects.jsonl)')
    .action(async (flags: ReplayFlags) => {
      const config = loadConfig(process.env, flags.rules ? { RULES_DIR: flags.rules } : {});
      const rejectsPath = flags.rejects ?? `${flags.out}.rejects.jsonl`;
      const rejects = createWriteStream(rejectsPath);
      let rejected = 0;
      const reject = (file: string, lineNo: number, error: InvalidEventError): void => {
        rejected++;
        rejects.write(JSON.stringify({ file, line: lineNo, code: error.code, error: error.message }) + '\n');
      };
      const lines = await readTransactions(flags.transactions, reject);
      const labels = flags.labels ? await countLabels(flags.labels, reject) : 0;
      // Event-time order for the features; input order for the output.
      const byTime = [...lines].sort((a, b) => a.tx.eventTimeMs - b.tx.eventTimeMs || a.lineNo - b.lineNo);
      const pipeline = buildPipeline(config, memoryStore(config));
      const decisions = new Map<number, string>();
      for (let i = 0; i < byTime.length; i += 1000) {
        const chunk = byTime.slice(i, i + 1000);
        const outcome = await processBatch(chunk, (l) => l.tx, pipeline.deps);
        for (const d of outcome.decided) decisions.set((chunk[d.index] as Line).lineNo, JSON.stringify(d.decision));
      }
      const out = createWriteStream(flags.out);
      const counts = { allow: 0, review: 0, block: 0 };
      for (const l of lines) {
        const json = decisions.get(l.lineNo) as string;
        counts[(JSON.parse(json) as { decision: keyof typeof counts }).decision]++;
        await write(out, json);
      }
      await Promise.all([close(out), close(rejects)]);
      console.error(
        `replayed ${lines.length} transactions: ${counts.allow} allow, ${counts.review} review, ${counts.block} block → ${flags.out}` +
          `${labels > 0 ? `; ${labels} labels read` : ''}; ${rejected} bad lines → ${rejectsPath}`,
      );
    });
}

async function readTransactions(file: string, reject: (file: string, lineNo: number, e: InvalidEventError) => void): Promise<Line[]> {
  const out: Line[] = [];
  await eachLine(file, (text, lineNo) => {
    try {
      out.push({ lineNo, tx: toParsedTransaction(parseJson(text)) });
    } catch (err) {
      if (!(err instanceof InvalidEventError)) throw err;
      reject(file, lineNo, err);
    }
  });
  return out;
}

async function countLabels(file: string, reject: (file: string, lineNo: number, e: InvalidEventError) => void): Promise<number> {
  let n = 0;
  await eachLine(file, (text, lineNo) => {
    try {
      validateLabel(parseJson(text));
      n++;
    } catch (err) {
      if (!(err instanceof InvalidEventError)) throw err;
      reject(file, lineNo, err);
    }
  });
  return n;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidEventError('FD_EVENT_NOT_JSON', `not valid JSON: ${(err as Error).message}`);
  }
}

async function eachLine(file: string, fn: (text: string, lineNo: number) => void): Promise<void> {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let lineNo = 0;
  for await (const text of rl) {
    lineNo++;
    if (text.trim() !== '') fn(text, lineNo);
  }
}

function write(stream: WriteStream, line: string): Promise<void> {
  return stream.write(line + '\n') ? Promise.resolve() : new Promise((r) => stream.once('drain', () => r()));
}

function close(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
}
