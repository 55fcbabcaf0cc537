// A feature store whose Redis work runs on its own thread (store-thread.ts). The pipeline's
// thread only groups events and reads results; decoding, the windows, encoding and the Redis
// protocol (about 60% of its CPU per event with the store in-process) move to the other core.
// A thread that dies fails its calls as retriable and is started again by the next call.
import type { Worker } from 'node:worker_threads';
import { startModuleThread } from '../../thread-start.js';
import { PartitionFencedError, StoreUnavailableError } from '../../contract/errors.js';
import { JournalRecord } from '../journal.js';
import { Observations, type Claim, type EntityBatch, type FeatureStore } from '../store.js';
import { LayoutRegistry, transferables, type Reply, type Request } from './protocol.js';
import type { StoreThreadData } from './store-thread.js';

export interface ThreadedStoreOptions extends StoreThreadData {
  onConflict?: (entities: number) => void;
  onError?: (err: Error) => void;
  /** How long close() waits for the thread to close Redis before ending it (default 5 s). */
  closeTimeoutMs?: number;
  /** Starts the thread; tests replace it to make a thread die. */
  spawnThread?: (data: StoreThreadData) => Worker;
}

/** A request waiting for its reply: `settle` turns the reply into the call's result. */
interface Call {
  settle: (reply: Reply) => void;
  reject: (err: Error) => void;
}

function startThread(data: StoreThreadData): Worker {
  return startModuleThread(import.meta.url, './store-thread', data);
}

export class ThreadedFeatureStore implements FeatureStore {
  private thread: Worker | null = null;
  private registry = new LayoutRegistry();
  private readonly calls = new Map<number, Call>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: ThreadedStoreOptions) {}

  observe(batches: readonly EntityBatch[]): Promise<Observations> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the feature store is closed'));
    const thread = this.running();
    const encoded = this.registry.encode(batches);
    return this.request<Observations>(
      (id) => thread.postMessage({ type: 'observe', id, batches: encoded } satisfies Request, transferables(encoded)),
      (reply) => (reply.type === 'observed' ? new Observations(batches, reply.arrays) : unexpected(reply)),
    );
  }

  claim(partition: string): Promise<Claim> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the feature store is closed'));
    const thread = this.running();
    return this.request<Claim>(
      (id) => thread.postMessage({ type: 'claim', id, partition } satisfies Request),
      (reply) => (reply.type === 'claimed' ? { epoch: reply.epoch, record: JournalRecord.decode(reply.entries) } : unexpected(reply)),
    );
  }

  release(partition: string, committedOffset: number): Promise<void> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the feature store is closed'));
    const thread = this.running();
    return this.request<void>(
      (id) => thread.postMessage({ type: 'release', id, partition, committedOffset } satisfies Request),
      (reply) => (reply.type === 'released' ? undefined : unexpected(reply)),
    );
  }

  /** Sends a request under a fresh id; its reply (or the thread's death) settles the promise. */
  private request<T>(send: (id: number) => void, result: (reply: Reply) => T): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { settle: (reply) => resolve(result(reply)), reject });
      send(id);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const thread = this.thread;
    if (thread === null) return;
    const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
    const request: Request = { type: 'close' };
    thread.postMessage(request);
    const timer = setTimeout(() => void thread.terminate(), this.options.closeTimeoutMs ?? 5000);
    await exited;
    clearTimeout(timer);
  }

  private running(): Worker {
    if (this.thread !== null) return this.thread;
    const thread = (this.options.spawnThread ?? startThread)({ target: this.options.target, options: this.options.options });
    thread.on('message', (reply: Reply) => this.onReply(reply));
    thread.on('error', (err) => this.failAll(`the feature store thread failed: ${err.message}`));
    thread.on('exit', (code) => {
      if (this.thread === thread) {
        this.thread = null;
        this.registry = new LayoutRegistry(); // a new thread knows no layouts yet
      }
      this.failAll(`the feature store thread exited (code ${code})`);
    });
    // Idle, the thread must not keep the process alive; close() ends it.
    thread.unref();
    this.thread = thread;
    return thread;
  }

  private onReply(reply: Reply): void {
    switch (reply.type) {
      case 'observed':
      case 'claimed':
      case 'released': {
        const call = this.take(reply.id);
        if (call === undefined) return;
        try {
          call.settle(reply);
        } catch (err) {
          call.reject(err as Error);
        }
        return;
      }
      case 'failed': {
        const call = this.take(reply.id);
        if (call === undefined) return;
        call.reject(errorOf(reply));
        return;
      }
      case 'conflict':
        this.options.onConflict?.(reply.entities);
        return;
      case 'redis-error':
        this.options.onError?.(new Error(reply.message));
        return;
      case 'closed':
        return;
    }
  }

  private take(id: number): Call | undefined {
    const call = this.calls.get(id);
    this.calls.delete(id);
    return call;
  }

  private failAll(message: string): void {
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const call of calls) call.reject(new StoreUnavailableError(message));
  }
}

/** The error a thread reported, as the class it was thrown as there. */
function errorOf(reply: Extract<Reply, { type: 'failed' }>): Error {
  if (reply.fenced !== undefined) return new PartitionFencedError(reply.fenced);
  if (reply.name === 'StoreUnavailableError') return new StoreUnavailableError(reply.message);
  return Object.assign(new Error(reply.message), { name: reply.name });
}

function unexpected(reply: Reply): never {
  throw new Error(`the feature store thread answered ${reply.type} to the wrong request`);
}
