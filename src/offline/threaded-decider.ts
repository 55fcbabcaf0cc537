// replay's second thread, seen from the first. The main thread reads and validates the lines
// and computes each chunk's features (the store's state is one, in event-time order); the
// decide thread (cli/decide-thread.ts) scores the chunk, applies the rules and encodes its
// decision lines, which the main thread writes. The two halves of processBatch then run on
// two cores at once, one chunk apart; the decisions are the same bytes as on one thread.
//
// A chunk crosses as plain arrays: its lines' bytes (parsed again there: the ParsedTransaction
// of a valid line is its JSON as is), their event times and the features' arrays, moved
// rather than copied when they have their memory to themselves (movable: the small ones, which
// may share Buffer's pool, are copied).
import type { Worker } from 'node:worker_threads';
import type { DecisionOutcome } from '../contract/decision.js';
import { featureArrays, type BatchFeatureArrays, type BatchFeatures } from '../features/engine.js';
import type { TransactionLine } from './input-lines.js';

/** Decides chunks whose features are known; results come back in the order asked. */
export interface ChunkDecider {
  decide(chunk: readonly TransactionLine[], features: BatchFeatures): Promise<DecidedChunk>;
  close(): Promise<void>;
}

export interface DecidedChunk {
  /** The chunk's decision lines, each ending with a newline, in the chunk's order. */
  bytes: Buffer;
  outcomes: DecisionOutcome[];
}

export interface DecideThreadData {
  /** The configuration overrides the main thread's pipeline was built with (configWith). */
  overrides: Record<string, string | undefined>;
  /** The main thread's feature set's names: the thread refuses to start on another set. */
  featureNames: readonly string[];
}

export type DecideRequest =
  | { type: 'chunk'; id: number; raw: Uint8Array; ends: Int32Array; times: Float64Array; features: BatchFeatureArrays }
  | { type: 'close' };

export type DecideReply =
  | { type: 'ready' }
  | { type: 'decided'; id: number; bytes: Uint8Array; outcomes: Uint8Array }
  | { type: 'failed'; id: number; message: string }
  | { type: 'closed' };

export const OUTCOMES: readonly DecisionOutcome[] = ['allow', 'review', 'block'];

/** The ArrayBuffers of these arrays that may be moved: those no other view shares (Buffer's pool is shared). */
export function movable(...arrays: ArrayBufferView[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const a of arrays) if (a.buffer instanceof ArrayBuffer && a.buffer.byteLength > Buffer.poolSize) out.add(a.buffer);
  return [...out];
}

interface Waiting {
  resolve: (chunk: DecidedChunk) => void;
  reject: (err: Error) => void;
}

export class ThreadedDecider implements ChunkDecider {
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private failure: Error | null = null;

  private constructor(private readonly thread: Worker) {
    thread.on('message', (reply: DecideReply) => this.answered(reply));
    thread.on('error', (err) => this.fail(err));
    thread.on('exit', (code) => this.fail(new Error(`the decide thread exited (code ${code})`)));
  }

  /** Starts the thread and waits until its pipeline is built (its model loaded): the load's error, if any, is the start's. */
  static start(thread: Worker): Promise<ThreadedDecider> {
    return new Promise((resolve, reject) => {
      const failed = (err: Error): void => {
        done();
        reject(err);
      };
      const onExit = (code: number): void => failed(new Error(`the decide thread exited (code ${code}) before it was ready`));
      const onReply = (reply: DecideReply): void => {
        done();
        if (reply.type === 'ready') return resolve(new ThreadedDecider(thread));
        void thread.terminate();
        reject(new Error(reply.type === 'failed' ? reply.message : `the decide thread answered ${reply.type}`));
      };
      const done = (): void => {
        thread.off('message', onReply);
        thread.off('error', failed);
        thread.off('exit', onExit);
      };
      thread.on('message', onReply);
      thread.on('error', failed);
      thread.on('exit', onExit);
    });
  }


  decide(chunk: readonly TransactionLine[], features: BatchFeatures): Promise<DecidedChunk> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const ends = new Int32Array(chunk.length);
    const times = new Float64Array(chunk.length);
    let size = 0;
    chunk.forEach((line, i) => {
      size += rawOf(line).length;
      ends[i] = size;
      times[i] = line.tx.eventTimeMs;
    });
    const raw = Buffer.allocUnsafeSlow(size);
    let at = 0;
    for (const line of chunk) at += rawOf(line).copy(raw, at);
    const arrays = featureArrays(features);
    const id = this.nextId++;
    return new Promise<DecidedChunk>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const request: DecideRequest = { type: 'chunk', id, raw, ends, times, features: arrays };
      this.thread.postMessage(request, movable(raw, ends, times, arrays.values, arrays.tooLate, arrays.duplicate, arrays.replayed, arrays.future));
    });
  }

  async close(): Promise<void> {
    if (this.failure !== null) return;
    const closed = new Promise<void>((resolve) => this.thread.once('exit', () => resolve()));
    this.thread.postMessage({ type: 'close' } satisfies DecideRequest);
    await closed;
  }

  private answered(reply: DecideReply): void {
    if (reply.type !== 'decided' && reply.type !== 'failed') return;
    const waiting = this.waiting.get(reply.id);
    if (waiting === undefined) return;
    this.waiting.delete(reply.id);
    if (reply.type === 'failed') waiting.reject(new Error(reply.message));
    else waiting.resolve({ bytes: Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength), outcomes: Array.from(reply.outcomes, (o) => OUTCOMES[o] as DecisionOutcome) });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
  }
}

function rawOf(line: TransactionLine): Buffer {
  if (line.raw === undefined) throw new Error(`line ${line.lineNo} has no bytes to decide on another thread`);
  return line.raw;
}
