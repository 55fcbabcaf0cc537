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
import { PartitionFencedError, StoreUnavailableError } from '../../contract/errors.js';
import { whenReady } from './readiness.js';
import { redisError } from './redis-errors.js';
import { observeEvent, StateArena, type EntityState } from '../entity-state.js';
import { isLabelEntity } from '../definitions.js';
import { JournalChunks, JournalRecord, type JournalEntry } from '../journal.js';
import { LABEL_VERSION_SUFFIX, LabelReadCache, newLabelToken } from './label-read-cache.js';
import { decodeState, STATE_FORMAT } from '../state-codec.js';
import { Observations, type Claim, type EntityBatch, type FeatureStore, type StoreOptions } from '../store.js';
import type { StateSpec } from '../windows.js';
import type { WindowSpec } from '../windows.js';
import { stateSpec } from '../windows.js';
import { CAS_SCRIPT, CLAIM_SCRIPT, encodeCasWrites, journalField, journalFieldOrder, RELEASE_SCRIPT, type CasWrites } from './cas-script.js';

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
  fdClaimBuffer(numKeys: number, owner: string, journal: string): Promise<[number, Buffer[]]>;
  fdRelease(numKeys: number, journal: string, committedOffset: number): Promise<number>;
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
function tagSafe(text: string): string {
  return text.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

export function entityTag(entity: string, id: string): string {
  return `${entity}:${tagSafe(id)}`;
}

/** A partition's owner and journal keys: one hash tag, so on a Redis Cluster one script reaches both. */
export function journalKeys(prefix: string, partition: string): { owner: string; journal: string } {
  const tag = `{${tagSafe(partition)}}`;
  return { owner: `${prefix}:owner:${tag}`, journal: `${prefix}:journal:${tag}` };
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
const EMPTY = Buffer.alloc(0);

function newVersion(): number {
  return 1 + Math.floor(Math.random() * 2 ** 52);
}

/** How long a call waits for a (re)connecting client when no attempt fails sooner (connectTimeout is 5 s). */
const CONNECT_WAIT_MS = 10_000;

export class RedisFeatureStore implements FeatureStore {
  private readonly client: ScriptClient;
  private readonly layouts = new Map<readonly WindowSpec[], string>();
  private readonly arena = new StateArena();
  /**
   * Writes sent and not yet answered, by key. Two calls run at once (see coalescing-store.ts):
   * the second reads while the first's writes travel, and builds on those writes.
   */
  private readonly inFlight = new Map<string, InFlight>();
  /** Orders this process's journal entries of an epoch (fields sort by epoch, then sequence). */
  private journalSequence = 0;
  /** Label windows as transactions read them, while no label has been applied since (label-read-cache.ts). */
  private readonly labelReads = new LabelReadCache();
  private readonly labelVersionKey: string;

  constructor(
    client: Redis | Cluster,
    private readonly options: RedisStoreOptions,
  ) {
    // state-codec.ts writes doubles in native order and its layout is little-endian.
    if (endianness() !== 'LE') throw new Error('the Redis feature store needs a little-endian machine');
    this.labelVersionKey = `${options.keyPrefix}:${LABEL_VERSION_SUFFIX}`;
    client.defineCommand('fdCas', { lua: CAS_SCRIPT });
    client.defineCommand('fdClaim', { lua: CLAIM_SCRIPT });
    client.defineCommand('fdRelease', { lua: RELEASE_SCRIPT });
    this.client = client as ScriptClient;
  }

  async claim(partition: string): Promise<Claim> {
    const { epoch, entries } = await this.claimEntries(partition);
    return { epoch, record: JournalRecord.decode(entries) };
  }

  /** A claim with the journal's entries still encoded, in write order (the store thread sends them as they are). */
  async claimEntries(partition: string): Promise<{ epoch: number; entries: Buffer[] }> {
    const { owner, journal } = journalKeys(this.options.keyPrefix, partition);
    try {
      await this.connected();
      const [epoch, flat] = await this.client.fdClaimBuffer(2, owner, journal);
      const entries: { order: [number, number]; rows: Buffer }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) entries.push({ order: journalFieldOrder((flat[i] as Buffer).toString()), rows: flat[i + 1] as Buffer });
      entries.sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1]);
      return { epoch: Number(epoch), entries: entries.map((e) => e.rows) };
    } catch (err) {
      throw unavailable('redis journal claim failed', err);
    }
  }

  async release(partition: string, committedOffset: number): Promise<void> {
    try {
      await this.connected();
      await this.client.fdRelease(1, journalKeys(this.options.keyPrefix, partition).journal, committedOffset);
    } catch (err) {
      throw unavailable('redis journal release failed', err);
    }
  }

  async observe(batches: readonly EntityBatch[]): Promise<Observations> {
    const out = new Observations(batches);
    if (batches.length === 0) return out;
    const keys = batches.map((b) => `${this.options.keyPrefix}:{${entityTag(b.entity, b.id)}}:${this.layout(b.windows)}`);
    let todo = batches.map((_, i) => i);
    const maxAttempts = this.options.maxConflictRetries ?? 50;
    const call = {};
    const touched: string[] = [];
    // Label windows only read (a transaction's) may come from the cache; a call that applies
    // labels tells the other readers once it has written them.
    const labelReads = batches.map((b) => isLabelEntity(b.entity) && b.events.every((e) => e.readOnly === true));
    const appliesLabels = batches.some((b, i) => isLabelEntity(b.entity) && labelReads[i] === false);
    try {
      await this.connected();
      for (let attempt = 1; todo.length > 0; attempt++) {
        if (attempt > maxAttempts) throw new Error(`${todo.length} entities kept changing concurrently after ${maxAttempts} attempts`);
        const stored = labelReads.includes(true) ? await this.readWithLabels(todo, keys, labelReads) : await this.read(todo.map((i) => keys[i] as string));
        // From here to the writes' encoding the pass is synchronous: the arena is ours.
        this.arena.reset();
        const writes: Pending[] = [];
        const journal = new JournalChunks();
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
          // Every entry's rows, changed or not: a redelivered event needs all its entities'.
          out.journal(journal, batch, b);
        });
        todo = await this.compareAndSet(writes, journal, call, touched);
        if (todo.length > 0) {
          this.options.onConflict?.(todo.length);
          // A random pause, growing with the attempts, so two writers of a hot entity stop colliding.
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
        }
      }
    } catch (err) {
      if (err instanceof PartitionFencedError) throw err;
      throw unavailable('redis feature update failed', err);
    } finally {
      for (const key of touched) if (this.inFlight.get(key)?.writer === call) this.inFlight.delete(key);
      // Written or not (a redelivered label changes nothing, a failed call may have written some).
      if (appliesLabels) await this.client.set(this.labelVersionKey, newLabelToken()).catch(() => undefined);
    }
    return out;
  }

  /**
   * Like read(), for a call with label windows it only reads: those held under the token Redis
   * still has are not read again. The token is read first (on one Redis, in the same MGET), so
   * a state read with it is never older than the token says.
   */
  private async readWithLabels(todo: number[], keys: string[], labelReads: boolean[]): Promise<(Buffer | null)[]> {
    const held = new Set(todo.filter((i) => labelReads[i] === true && this.labelReads.get(keys[i] as string) !== undefined));
    const direct = todo.filter((i) => !held.has(i));
    let token: Buffer | null;
    let replies: (Buffer | null)[];
    if (this.client instanceof Cluster) {
      token = await this.client.getBuffer(this.labelVersionKey);
      replies = await this.read(direct.map((i) => keys[i] as string));
    } else {
      [token = null, ...replies] = await this.client.mgetBuffer(this.labelVersionKey, ...direct.map((i) => keys[i] as string));
    }
    const values = new Map<number, Buffer | null>();
    direct.forEach((i, n) => values.set(i, replies[n] ?? null));
    const valid = this.labelReads.validate(token === null ? null : token.toString('latin1'));
    // What the cache holds now, under the token just read (another call may have refilled it
    // meanwhile); what it no longer holds is read after the token, so never older than it.
    const again: number[] = [];
    for (const i of held) {
      const value = valid ? this.labelReads.get(keys[i] as string) : undefined;
      if (value === undefined) again.push(i);
      else values.set(i, value);
    }
    if (again.length > 0) (await this.read(again.map((i) => keys[i] as string))).forEach((value, n) => values.set(again[n] as number, value));
    for (const i of todo) if (labelReads[i] === true) this.labelReads.hold(keys[i] as string, values.get(i) ?? null);
    return todo.map((i) => values.get(i) ?? null);
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
    // QUIT needs a connection: a client still trying to connect (a refused password or
    // certificate, say) is just stopped, rather than left to retry until QUIT gives up.
    if (this.client.status !== 'ready') this.client.disconnect();
    else await this.client.quit().catch(() => this.client.disconnect());
  }

  /** While the client (re)connects, waits for it; a failed attempt fails the call with its reason, not a hang. */
  private connected(): Promise<void> | undefined {
    return this.client.status === 'ready' ? undefined : whenReady(this.client, CONNECT_WAIT_MS);
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

  /**
   * Journals the rows and writes what did not change meanwhile; returns the batch indexes to
   * recompute. On one Redis a single script checks the partitions' epochs, writes the states
   * and appends the rows. A Redis Cluster cannot run one script over keys in different slots:
   * there each partition's rows are journaled first (its epoch checked), then each state is
   * written on its own, so a state is never written ahead of the rows of what it applied.
   */
  private async compareAndSet(writes: Pending[], journal: JournalChunks, call: object, touched: string[]): Promise<number[]> {
    if (writes.length === 0 && journal.size === 0) return [];
    const cluster = this.client instanceof Cluster;
    const groups = cluster ? writes.map((w) => [w]) : [writes];
    // Encoded now, while the arena still holds these states.
    const encoded = groups.map((group) => encodeCasWrites(group));
    groups.forEach((group, g) => group.forEach((w, i) => this.noteSent(w, (encoded[g] as CasWrites).values[i] as Buffer, call, touched)));
    const journals = journal.entries();
    try {
      if (cluster) {
        await Promise.all(journals.map((j) => this.casScript([], EMPTY, [j])));
        return (await Promise.all(groups.map((group, g) => this.casGroup(group, encoded[g] as CasWrites, [])))).flat();
      }
      return await this.casGroup(writes, encoded[0] as CasWrites, journals);
    } catch (err) {
      // Fenced (or failed) before these writes were applied: nothing may build on them.
      for (const w of writes) this.noteAnswered(w, false);
      throw err;
    }
  }

  /** One script call: the group's writes (and these journals); returns the batch indexes that conflicted. */
  private async casGroup(group: Pending[], encoded: CasWrites, journals: JournalEntry[]): Promise<number[]> {
    const failed = new Set(await this.casScript(group.map((w) => w.key), encoded.blob, journals));
    group.forEach((w, i) => this.noteAnswered(w, !failed.has(i + 1)));
    return group.filter((_, i) => failed.has(i + 1)).map((w) => w.index);
  }

  /** Runs CAS_SCRIPT; throws PartitionFencedError when a journal's owner has moved on (nothing was written). */
  private async casScript(keys: string[], blob: Buffer, journals: JournalEntry[]): Promise<number[]> {
    const journalArgs: (string | Buffer | number)[] = [];
    const journalKeyList: string[] = [];
    for (const { target, rows, maxOffset } of journals) {
      const k = journalKeys(this.options.keyPrefix, target.id);
      journalKeyList.push(k.owner, k.journal);
      journalArgs.push(target.epoch, journalField(target.epoch, this.journalSequence++, maxOffset), rows);
    }
    const reply = await this.client.fdCasBuffer(keys.length + journalKeyList.length, ...keys, ...journalKeyList, this.options.ttlMs, blob, keys.length, this.options.ttlMs, ...journalArgs);
    const fenced = reply.filter((i) => i < 0).map((i) => (journals[-i - 1] as JournalEntry).target.id);
    if (fenced.length > 0) throw new PartitionFencedError(fenced);
    return reply;
  }
}

/** The client's error, without what ioredis attaches to it (a failed AUTH's arguments are the password). */
function unavailable(what: string, err: unknown): StoreUnavailableError {
  const cause = redisError(err);
  return new StoreUnavailableError(`${what}: ${cause.message}`, { cause });
}
