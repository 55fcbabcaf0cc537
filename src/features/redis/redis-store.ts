// The Redis feature store: one script call per batch on a single Redis, one per entity
// (auto-pipelined per node) on Redis Cluster, where each entity's keys share a hash slot.
import { createHash } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import { StoreUnavailableError } from '../../contract/errors.js';
import type { EntityBatch, EntityObservation, FeatureStore, StoreOptions } from '../store.js';
import type { WindowSpec } from '../windows.js';
import { encodeObserveArgs } from './observe-args.js';
import { OBSERVE_SCRIPT } from './observe-script.js';

export interface RedisStoreOptions extends StoreOptions {
  keyPrefix: string;
  /** Idle entities expire after this long; at least the longest window plus the lateness. */
  ttlMs: number;
}

type ScriptClient = (Redis | Cluster) & {
  fdObserveBuffer(numKeys: number, ...args: (string | Buffer)[]): Promise<Buffer[]>;
};

/** `{` and `}` would end the hash tag early; percent-encode them (and `%`). */
export function entityTag(entity: string, id: string): string {
  return `${entity}:${id.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}`;
}

export class RedisFeatureStore implements FeatureStore {
  private readonly client: ScriptClient;
  private readonly layouts = new Map<readonly WindowSpec[], string>();

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

  /**
   * The state's layout depends on the windows and the lateness; a change of either starts
   * fresh keys instead of misreading old ones (the old ones expire with their TTL).
   */
  private layout(windows: readonly WindowSpec[]): string {
    let id = this.layouts.get(windows);
    if (id === undefined) {
      const text = windows.map((w) => `${w.name}/${w.bucketMs}`).join(',') + `;${this.options.allowedLatenessMs}`;
      id = createHash('sha1').update(text).digest('hex').slice(0, 8);
      this.layouts.set(windows, id);
    }
    return id;
  }

  private call(batches: readonly EntityBatch[]): Promise<Buffer[]> {
    const keys = batches.map((b) => `${this.options.keyPrefix}:{${entityTag(b.entity, b.id)}}:${this.layout(b.windows)}`);
    return this.client.fdObserveBuffer(keys.length, ...keys, encodeObserveArgs(batches, this.options.allowedLatenessMs, this.options.ttlMs));
  }
}

function decode(reply: Buffer[], batches: readonly EntityBatch[]): EntityObservation[][] {
  return batches.map((batch, e) => {
    const buf = reply[e] as Buffer;
    let at = 0;
    const next = (): number => {
      const v = buf.readDoubleLE(at);
      at += 8;
      return v;
    };
    return batch.events.map(() => {
      const flag = next();
      const prev = next();
      const windows = batch.windows.map(() => ({ count: next(), sum: next(), sumSq: next() }));
      return { duplicate: (flag & 3) === 1, tooLate: (flag & 3) === 2, previousTimeMs: flag & 4 ? prev : null, windows };
    });
  });
}
