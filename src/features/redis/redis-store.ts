// The Redis feature store. Per batch: one read of every entity's state (MGET), the window
// algorithm in-process (entity-state.ts, shared with the memory store), and one
// compare-and-set script call writing the changed states. An entity another worker changed
// in between is read again and recomputed. Each entity's key has its own hash tag, so on a
// Redis Cluster the reads and writes go per key, pipelined per node.
//
// Why not compute inside a Lua script: on this kind of machine every command and C call in
// Redis's Lua costs about a microsecond, and the window algorithm in Lua cost 78 µs of
// Redis CPU per transaction (four entities); Redis, single-threaded, was the bottleneck.
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { Cluster, type Redis } from 'ioredis';
import { StoreUnavailableError } from '../../contract/errors.js';
import { observeEvent } from '../entity-state.js';
import { decodeState, encodeState } from '../state-codec.js';
import type { EntityBatch, EntityObservation, FeatureStore, StoreOptions } from '../store.js';
import type { WindowSpec } from '../windows.js';
import { stateSpec } from '../windows.js';
import { CAS_SCRIPT, encodeCasWrites } from './cas-script.js';

export interface RedisStoreOptions extends StoreOptions {
  keyPrefix: string;
  /** Idle entities expire after this long; at least the longest window plus the lateness. */
  ttlMs: number;
  /** Attempts for an entity that keeps being changed concurrently (default 50). */
  maxConflictRetries?: number;
  /** Told how many entities had to be recomputed because another worker changed them first. */
  onConflict?: (entities: number) => void;
}

type ScriptClient = (Redis | Cluster) & {
  fdCasBuffer(numKeys: number, ...args: (string | Buffer | number)[]): Promise<number[]>;
};

/** `{` and `}` would end the hash tag early; percent-encode them (and `%`). */
export function entityTag(entity: string, id: string): string {
  return `${entity}:${id.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}`;
}

interface Pending {
  index: number;
  key: string;
  version: number;
  value: Buffer;
}

export class RedisFeatureStore implements FeatureStore {
  private readonly client: ScriptClient;
  private readonly layouts = new Map<readonly WindowSpec[], string>();

  constructor(
    client: Redis | Cluster,
    private readonly options: RedisStoreOptions,
  ) {
    // state-codec.ts writes doubles in native order and its layout is little-endian.
    if (endianness() !== 'LE') throw new Error('the Redis feature store needs a little-endian machine');
    client.defineCommand('fdCas', { lua: CAS_SCRIPT });
    this.client = client as ScriptClient;
  }

  async observe(batches: readonly EntityBatch[]): Promise<EntityObservation[][]> {
    if (batches.length === 0) return [];
    const keys = batches.map((b) => `${this.options.keyPrefix}:{${entityTag(b.entity, b.id)}}:${this.layout(b.windows)}`);
    const results: EntityObservation[][] = new Array<EntityObservation[]>(batches.length);
    let todo = batches.map((_, i) => i);
    const maxAttempts = this.options.maxConflictRetries ?? 50;
    try {
      for (let attempt = 1; todo.length > 0; attempt++) {
        if (attempt > maxAttempts) throw new Error(`${todo.length} entities kept changing concurrently after ${maxAttempts} attempts`);
        const stored = await this.read(todo.map((i) => keys[i] as string));
        const writes: Pending[] = [];
        todo.forEach((i, n) => {
          const batch = batches[i] as EntityBatch;
          const spec = stateSpec(batch.windows, this.options.allowedLatenessMs);
          const { version, state } = decodeState(stored[n] ?? null, spec);
          let changed = false;
          results[i] = batch.events.map((event) => {
            const r = observeEvent(state, spec, event);
            changed ||= r.changed;
            return r.observation;
          });
          if (changed) writes.push({ index: i, key: keys[i] as string, version, value: encodeState(state, version + 1) });
        });
        todo = await this.compareAndSet(writes);
        if (todo.length > 0) {
          this.options.onConflict?.(todo.length);
          // A random pause, growing with the attempts, so two writers of a hot entity stop colliding.
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
        }
      }
    } catch (err) {
      throw new StoreUnavailableError(`redis feature update failed: ${(err as Error).message}`, { cause: err });
    }
    return results;
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

  private read(keys: string[]): Promise<(Buffer | null)[]> {
    if (this.client instanceof Cluster) return Promise.all(keys.map((k) => this.client.getBuffer(k)));
    return this.client.mgetBuffer(...keys);
  }

  /** Writes what did not change meanwhile; returns the batch indexes to recompute. */
  private async compareAndSet(writes: Pending[]): Promise<number[]> {
    if (writes.length === 0) return [];
    const groups = this.client instanceof Cluster ? writes.map((w) => [w]) : [writes];
    const conflicts = await Promise.all(
      groups.map(async (group) => {
        const failed = await this.client.fdCasBuffer(group.length, ...group.map((w) => w.key), this.options.ttlMs, encodeCasWrites(group));
        return failed.map((n) => (group[n - 1] as Pending).index);
      }),
    );
    return conflicts.flat();
  }
}
