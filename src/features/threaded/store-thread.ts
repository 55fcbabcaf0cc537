// The feature-store thread: owns the Redis connection and the window algorithm, so their CPU
// (state decoding, the windows, encoding, the Redis protocol) runs beside the pipeline's
// thread instead of on it. Calls are served as they come; the Redis store pipelines two.
import { parentPort, workerData } from 'node:worker_threads';
import { PartitionFencedError } from '../../contract/errors.js';
import { connectRedis } from '../redis/connect.js';
import type { RedisTarget } from '../redis/target.js';
import { RedisFeatureStore, type RedisStoreOptions } from '../redis/redis-store.js';
import { LayoutTable, transferables, type Reply, type Request } from './protocol.js';

export interface StoreThreadData {
  target: RedisTarget;
  options: Omit<RedisStoreOptions, 'onConflict'>;
}

const port = parentPort;
if (port === null) throw new Error('store-thread.js runs as a worker thread');
const data = workerData as StoreThreadData;
const send = (reply: Reply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);

const client = connectRedis(data.target, (err) => send({ type: 'redis-error', message: err.message }));
const store = new RedisFeatureStore(client, { ...data.options, onConflict: (entities) => send({ type: 'conflict', entities }) });
const table = new LayoutTable();

function failed(id: number, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  send({ type: 'failed', id, name: e.name, message: e.message, ...(e instanceof PartitionFencedError ? { fenced: [...e.partitions] } : {}) });
}

port.on('message', (request: Request) => {
  switch (request.type) {
    case 'close':
      void store.close().finally(() => {
        send({ type: 'closed' });
        port.close();
      });
      return;
    case 'claim':
      store.claimEntries(request.partition).then(({ epoch, entries }) => send({ type: 'claimed', id: request.id, epoch, entries }), (err: unknown) => failed(request.id, err));
      return;
    case 'release':
      store.release(request.partition, request.committedOffset).then(() => send({ type: 'released', id: request.id }), (err: unknown) => failed(request.id, err));
      return;
    case 'observe': {
      let batches;
      try {
        batches = table.decode(request.batches);
      } catch (err) {
        failed(request.id, err);
        return;
      }
      store.observe(batches).then((observed) => {
        const arrays = { aggregates: observed.aggregates, previousTimeMs: observed.previousTimeMs, flags: observed.flags };
        send({ type: 'observed', id: request.id, arrays }, transferables(arrays));
      }, (err: unknown) => failed(request.id, err));
      return;
    }
  }
});
