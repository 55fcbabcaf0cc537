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
import { observeEvent, StateArena, type EntityState } from '../entity-state.js';
import { decodeState, STATE_FORMAT } from '../state-codec.js';
import { Observations, type EntityBatch, type FeatureStore, type StoreOptions } from '../store.js';
import type { StateSpec } from '../windows.js';
import type { WindowSpec } from '../windows.js';
import { stateSpec } from '../windows.js';
import { CAS_SCRIPT, encodeCasWrites, type CasWrites } from './cas-script.js';

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

/** A series in the key's layout: a plain window reads as it did before filters, extremes and distinct counts existed. */
function seriesLayout(w: WindowSpec): string {
  let text = `${w.name}/${w.bucketMs}`;
  if (w.filter !== undefined) text += `?${w.filter.expression}`;
  if (w.extremes === true) text += '+x';
  for (const d of w.distinct ?? []) text += `+d:${d.name}/${d.limit}`;
  return text;
}

/** `{` and `}` would end the hash tag early; percent-encode them (and `%`). */
export function entityTag(entity: string, id: string): string {
  return `${entity}:${id.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}`;
}

interface Pending {
  index: number;
  key: string;
  /** The version read: the write applies only if the key still has it. */
  version: number;
  /** The version written. */
  next: number;
  state: EntityState;
  spec: StateSpec;
}

/** A key's writes in flight: each built on the one before, the first on `versions[0]`. */
interface InFlight {
  /** The version the first write replaces, then the version each write writes, in order. */
  versions: number[];
  /** The encoded state of the last write, its version first. */
  value: Buffer;
  /** The call that wrote last: it clears the entry when it ends. */
  writer: object;
}

/**
 * A fresh version per write, never a counter: two writers that read the same version must
 * not write equal versions, or a later compare-and-set could not tell their writes apart.
 */
function newVersion(): number {
  return 1 + Math.floor(Math.random() * 2 ** 52);
}

export class RedisFeatureStore implements FeatureStore {
  private readonly client: ScriptClient;
  private readonly layouts = new Map<readonly WindowSpec[], string>();
  private readonly arena = new StateArena();
  /**
   * Writes sent and not yet answered, by key. Two calls run at once (see coalescing-store.ts):
   * the second reads while the first's writes travel, and builds on those writes.
   */
  private readonly inFlight = new Map<string, InFlight>();

  constructor(
    client: Redis | Cluster,
    private readonly options: RedisStoreOptions,
  ) {
    // state-codec.ts writes doubles in native order and its layout is little-endian.
    if (endianness() !== 'LE') throw new Error('the Redis feature store needs a little-endian machine');
    client.defineCommand('fdCas', { lua: CAS_SCRIPT });
    this.client = client as ScriptClient;
  }

  async observe(batches: readonly EntityBatch[]): Promise<Observations> {
    const out = new Observations(batches);
    if (batches.length === 0) return out;
    const keys = batches.map((b) => `${this.options.keyPrefix}:{${entityTag(b.entity, b.id)}}:${this.layout(b.windows)}`);
    let todo = batches.map((_, i) => i);
    const maxAttempts = this.options.maxConflictRetries ?? 50;
    const call = {};
    const touched: string[] = [];
    try {
      for (let attempt = 1; todo.length > 0; attempt++) {
        if (attempt > maxAttempts) throw new Error(`${todo.length} entities kept changing concurrently after ${maxAttempts} attempts`);
        const stored = await this.read(todo.map((i) => keys[i] as string));
        // From here to the writes' encoding the pass is synchronous: the arena is ours.
        this.arena.reset();
        const writes: Pending[] = [];
        todo.forEach((b, n) => {
          const batch = batches[b] as EntityBatch;
          const key = keys[b] as string;
          const spec = stateSpec(batch.windows, this.options.allowedLatenessMs);
          const { version, state } = decodeState(this.latest(key, stored[n] ?? null), spec, this.arena);
          let changed = false;
          batch.events.forEach((event, i) => {
            if (observeEvent(state, spec, event, out, out.row(b, i), out.aggregateAt(b, i))) changed = true;
          });
          if (changed) writes.push({ index: b, key, version, next: newVersion(), state, spec });
        });
        todo = await this.compareAndSet(writes, call, touched);
        if (todo.length > 0) {
          this.options.onConflict?.(todo.length);
          // A random pause, growing with the attempts, so two writers of a hot entity stop colliding.
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
        }
      }
    } catch (err) {
      throw new StoreUnavailableError(`redis feature update failed: ${(err as Error).message}`, { cause: err });
    } finally {
      for (const key of touched) if (this.inFlight.get(key)?.writer === call) this.inFlight.delete(key);
    }
    return out;
  }

  /**
   * The state to build on: the last write this process has in flight for the key when Redis
   * holds a state that write descends from (the writes are queued ahead of ours, in order),
   * else what Redis has.
   */
  private latest(key: string, stored: Buffer | null): Buffer | null {
    const pending = this.inFlight.get(key);
    if (pending === undefined) return stored;
    const storedVersion = stored === null || stored.length < 8 ? 0 : stored.readDoubleLE(0);
    return pending.versions.includes(storedVersion) ? pending.value : stored;
  }

  private noteSent(w: Pending, value: Buffer, call: object, touched: string[]): void {
    const entry = this.inFlight.get(w.key);
    if (entry !== undefined && entry.versions.at(-1) === w.version) {
      entry.versions.push(w.next);
      entry.value = value;
      entry.writer = call;
    } else {
      this.inFlight.set(w.key, { versions: [w.version, w.next], value, writer: call });
    }
    touched.push(w.key);
  }

  private noteAnswered(w: Pending, applied: boolean): void {
    const entry = this.inFlight.get(w.key);
    if (entry === undefined) return;
    const at = entry.versions.indexOf(w.next);
    if (at < 0) return;
    // Applied: Redis now holds this write; earlier versions cannot come back. Refused: the
    // writes built on it will be refused too, so nothing may build on them any more.
    if (applied) entry.versions.splice(0, at);
    else this.inFlight.delete(w.key);
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }

  /**
   * The state's layout depends on the windows, the lateness and the format; a change starts
   * fresh keys instead of misreading old ones (the old ones expire with their TTL).
   */
  private layout(windows: readonly WindowSpec[]): string {
    let id = this.layouts.get(windows);
    if (id === undefined) {
      const text = windows.map(seriesLayout).join(',') + `;${this.options.allowedLatenessMs};${STATE_FORMAT}`;
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
  private async compareAndSet(writes: Pending[], call: object, touched: string[]): Promise<number[]> {
    if (writes.length === 0) return [];
    const groups = this.client instanceof Cluster ? writes.map((w) => [w]) : [writes];
    // Encoded now, while the arena still holds these states.
    const encoded = groups.map((group) => encodeCasWrites(group));
    groups.forEach((group, g) => group.forEach((w, i) => this.noteSent(w, (encoded[g] as CasWrites).values[i] as Buffer, call, touched)));
    const conflicts = await Promise.all(
      groups.map(async (group, g) => {
        const failed = new Set(await this.client.fdCasBuffer(group.length, ...group.map((w) => w.key), this.options.ttlMs, (encoded[g] as CasWrites).blob));
        group.forEach((w, i) => this.noteAnswered(w, !failed.has(i + 1)));
        return group.filter((_, i) => failed.has(i + 1)).map((w) => w.index);
      }),
    );
    return conflicts.flat();
  }
}
