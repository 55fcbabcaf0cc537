// The Redis feature store: one script call per batch on a single Redis, one per entity
// (auto-pipelined per node) on Redis Cluster, where each entity's keys share a hash slot.
import { Cluster, type Redis } from 'ioredis';
import { StoreUnavailableError } from '../../contract/errors.js';
import type { EntityBatch, EntityObservation, FeatureStore, StoreOptions } from '../store.js';
import { ringSlots } from '../windows.js';
import { OBSERVE_SCRIPT } from './observe-script.js';

export interface RedisStoreOptions extends StoreOptions {
  keyPrefix: string;
  /** Idle entities expire after this long; at least the longest window plus the lateness. */
  ttlMs: number;
}

type ScriptClient = (Redis | Cluster) & {
  fdObserve(numKeys: number, ...args: (string | number)[]): Promise<string[]>;
};

/** `{` and `}` would end the hash tag early; percent-encode them (and `%`). */
export function entityTag(entity: string, id: string): string {
  return `${entity}:${id.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}`;
}

export class RedisFeatureStore implements FeatureStore {
  private readonly client: ScriptClient;

  constructor(
    client: Redis | Cluster,
    private readonly options: RedisStoreOptions,
  ) {
    client.defineCommand('fdObserve', { lua: OBSERVE_SCRIPT });
    this.client = client as ScriptClient;
  }

  async observe(batches: readonly EntityBatch[]): Promise<EntityObservation[][]> {
    if (batches.length === 0) return [];
    try {
      if (this.client instanceof Cluster) {
        return await Promise.all(batches.map(async (b) => decode(await this.call([b]), [b])[0] as EntityObservation[]));
      }
      return decode(await this.call(batches), batches);
    } catch (err) {
      throw new StoreUnavailableError(`redis feature update failed: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }

  private call(batches: readonly EntityBatch[]): Promise<string[]> {
    const keys: string[] = [];
    const args: (string | number)[] = [this.options.allowedLatenessMs, this.options.ttlMs, batches.length];
    for (const batch of batches) {
      const base = `${this.options.keyPrefix}:{${entityTag(batch.entity, batch.id)}}`;
      keys.push(`${base}:a`, `${base}:s`);
      args.push(batch.windows.length);
      for (const w of batch.windows) args.push(w.bucketMs, w.buckets, ringSlots(w, this.options.allowedLatenessMs));
      args.push(batch.events.length);
      for (const e of batch.events) args.push(e.transactionId, e.eventTimeMs, String(e.amount));
    }
    return this.client.fdObserve(keys.length, ...keys, ...args);
  }
}

function decode(reply: string[], batches: readonly EntityBatch[]): EntityObservation[][] {
  let at = 0;
  return batches.map((batch) =>
    batch.events.map(() => {
      const flag = reply[at++];
      const prev = reply[at++];
      const windows = batch.windows.map(() => ({
        count: Number(reply[at++]),
        sum: Number(reply[at++]),
        sumSq: Number(reply[at++]),
      }));
      return {
        duplicate: flag === 'd',
        tooLate: flag === 'l',
        previousTimeMs: prev === '' || prev === undefined ? null : Number(prev),
        windows,
      };
    }),
  );
}
