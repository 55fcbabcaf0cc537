// The in-memory store's entity states, kept live (decoded, in the working form entity-state.ts
// applies events to) between calls, so a call costs no decode and no encode per entity.
//
// A live state takes its whole dense layout (windows.ts, StateSpec.size doubles: 3.5 kB for an
// account of the default set, 1 kB for a card) where the encoded form takes only its filled
// slots (a few hundred bytes for an entity seen a few times). So live states are bounded by
// `liveBytes`: past it, the states not touched by the last call are encoded (state-codec.ts,
// as in Redis), oldest-made-live first, and decoded again when next touched. The order is when
// a state became live, not when it was last touched: an entity seen often but not in the last
// call may be encoded and decoded again (a cost, never a difference in results). A history
// with millions of rarely seen entities keeps them compact.
import type { DistinctRing } from '../distinct-ring.js';
import { newEntityState, type EntityState, type StateArena } from '../entity-state.js';
import { decodeState, encodeState } from '../state-codec.js';
import type { StateSpec } from '../windows.js';
import { StateSlabs } from './state-slabs.js';

interface LiveState {
  kind: string;
  id: string;
  spec: StateSpec;
  state: EntityState;
  /** The call that last touched it. */
  touched: number;
  /** Encoded or replaced: no longer held (its entry in the eviction order is skipped). */
  gone: boolean;
}

/** Default budget of live state memory (doubles of the dense layouts). */
export const DEFAULT_LIVE_BYTES = 256 * 1024 * 1024;

/** Per entity kind, per id: a key of two parts, so a lookup builds no string. */
class ByKind<V> {
  private readonly kinds = new Map<string, Map<string, V>>();
  size = 0;

  get(kind: string, id: string): V | undefined {
    return this.kinds.get(kind)?.get(id);
  }

  set(kind: string, id: string, value: V): void {
    let ids = this.kinds.get(kind);
    if (ids === undefined) this.kinds.set(kind, (ids = new Map<string, V>()));
    const before = ids.size;
    ids.set(id, value);
    this.size += ids.size - before;
  }

  delete(kind: string, id: string): void {
    const ids = this.kinds.get(kind);
    if (ids?.delete(id) === true) this.size--;
  }
}

export class LiveStates {
  private readonly live = new ByKind<LiveState>();
  /** Live states in the order they became live (the oldest are encoded first), gone ones included until the next sweep. */
  private order: LiveState[] = [];
  private readonly slabs = new StateSlabs();
  private readonly encoded = new ByKind<Buffer>();
  private bytes = 0;
  private call = 0;

  constructor(private readonly liveBytes: number = DEFAULT_LIVE_BYTES) {}

  /** Number of entity instances held, live or encoded. */
  get size(): number {
    return this.live.size + this.encoded.size;
  }

  /** Live states now, and the bytes their layouts take. */
  get liveCount(): { states: number; bytes: number } {
    return { states: this.live.size, bytes: this.bytes };
  }

  /** Starts a store call: states touched from now on belong to it. */
  begin(): void {
    this.call++;
  }

  /**
   * The live state of entity `kind` `id`, decoded when it was encoded; undefined when it has
   * none (or one for other windows, which counts as none, as a Redis key of another format would).
   */
  get(kind: string, id: string, spec: StateSpec, arena: StateArena): EntityState | undefined {
    const live = this.live.get(kind, id);
    if (live !== undefined) {
      live.touched = this.call;
      return live.spec === spec ? live.state : undefined;
    }
    const buf = this.encoded.get(kind, id);
    if (buf === undefined) return undefined;
    this.encoded.delete(kind, id);
    const state = this.detach(decodeState(buf, spec, arena).state, spec);
    this.hold(kind, id, spec, state);
    return state;
  }

  /** A new live state for entity `kind` `id`, replacing whatever it had. */
  create(kind: string, id: string, spec: StateSpec): EntityState {
    const previous = this.live.get(kind, id);
    if (previous !== undefined) this.drop(previous);
    const region = this.slabs.take(spec.size);
    const state = newEntityState(spec, region.values, region.base);
    this.hold(kind, id, spec, state);
    return state;
  }

  /**
   * Ends a store call: over the budget, the oldest live states the call did not touch are
   * encoded until a quarter of the budget is free (so the sweep is paid once per many calls).
   */
  end(): void {
    if (this.bytes <= this.liveBytes) {
      if (this.order.length > 2 * this.live.size + 1024) this.order = this.order.filter((l) => !l.gone);
      return;
    }
    const target = this.liveBytes * 0.75;
    const kept: LiveState[] = [];
    for (const live of this.order) {
      if (live.gone) continue;
      if (this.bytes > target && live.touched !== this.call) {
        this.encoded.set(live.kind, live.id, encodeState(live.state, 1, live.spec));
        this.drop(live);
      } else kept.push(live);
    }
    this.order = kept;
  }

  private hold(kind: string, id: string, spec: StateSpec, state: EntityState): void {
    const live: LiveState = { kind, id, spec, state, touched: this.call, gone: false };
    this.live.set(kind, id, live);
    this.order.push(live);
    this.bytes += spec.size * 8;
  }

  private drop(live: LiveState): void {
    live.gone = true;
    this.live.delete(live.kind, live.id);
    this.bytes -= live.spec.size * 8;
    this.slabs.release({ values: live.state.values, base: live.state.base }, live.spec.size);
  }

  /** A state decoded into the arena, copied into a region of its own. */
  private detach(state: EntityState, spec: StateSpec): EntityState {
    const region = this.slabs.take(spec.size);
    const own = newEntityState(spec, region.values, region.base);
    own.values.set(state.values.subarray(state.base, state.base + spec.size), region.base);
    own.last = state.last;
    for (const [slot, x] of state.dedupe) own.dedupe.set(slot, { d: x.d, hashes: x.hashes });
    own.distinct = state.distinct.map(copyRing);
    return own;
  }
}

function copyRing(ring: DistinctRing): DistinctRing {
  // countedFor NaN: the running counts are counted again on first use, as after a decode.
  return { words: ring.words, size: ring.size, hashes: ring.hashes.slice(), bits: ring.bits.slice(), perSlot: ring.perSlot.slice(), countedFor: NaN, running: 0, mask: new Uint32Array(ring.words) };
}
