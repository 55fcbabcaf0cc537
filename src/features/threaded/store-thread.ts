// The feature-store thread: owns the Redis connection and the window algorithm, so their CPU
// (state decoding, the windows, encoding, the Redis protocol) runs beside the pipeline's
// thread instead of on it. Calls are served as they come; the Redis store pipelines two.
import { parentPort, workerData } from 'node:worker_threads';
import { connectRedis, type RedisTarget } from '../redis/connect.js';
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

port.on('message', (request: Request) => {
  if (request.type === 'close') {
    void store.close().finally(() => {
      send({ type: 'closed' });
      port.close();
    });
    return;
  }
  const { id } = request;
  let batches;
  try {
    batches = table.decode(request.batches);
  } catch (err) {
    send({ type: 'failed', id, name: 'Error', message: (err as Error).message });
    return;
  }
  store.observe(batches).then(
    (observed) => {
      const arrays = { aggregates: observed.aggregates, previousTimeMs: observed.previousTimeMs, flags: observed.flags };
      send({ type: 'observed', id, arrays }, transferables(arrays));
    },
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      send({ type: 'failed', id, name: e.name, message: e.message });
    },
  );
});
