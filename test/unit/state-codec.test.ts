// An entity's state survives encoding, dedupe hashes included, and ids hash into 53 bits.
import { describe, expect, it } from 'vitest';
import { idHash, observeEvent, StateArena } from '../../src/features/entity-state.js';
import { decodeState, encodeState } from '../../src/features/state-codec.js';
import { Observations, type EntityBatch } from '../../src/features/store.js';
import { stateSpec, windowSpec } from '../../src/features/windows.js';

const windows = ['10m', '1d'].map(windowSpec);
const spec = stateSpec(windows, 900_000);

describe('state codec', () => {
  it('decodes what it encoded: windows, last event time and the applied ids', () => {
    const t = Date.parse('2026-03-01T12:00:00Z');
    const events = Array.from({ length: 200 }, (_, i) => ({ transactionId: `tx-${i}`, eventTimeMs: t + i * 7_000, amount: i + 0.25 }));
    const batch: EntityBatch = { entity: 'account', id: 'a', windows, events };
    const arena = new StateArena();
    const state = arena.take(spec);
    const out = new Observations([batch]);
    events.forEach((e, i) => observeEvent(state, spec, e, out, out.row(0, i), out.aggregateAt(0, i)));
    const decoded = decodeState(encodeState(state, 42, spec), spec, new StateArena());
    expect(decoded.version).toBe(42);
    expect(decoded.state.last).toBe(state.last);
    expect(Array.from(decoded.state.values.subarray(decoded.state.base, decoded.state.base + spec.size))).toEqual(Array.from(state.values.subarray(state.base, state.base + spec.size)));
    expect([...decoded.state.dedupe].map(([slot, x]) => [slot, x.d, x.hashes])).toEqual([...state.dedupe].map(([slot, x]) => [slot, x.d, x.hashes]));

    // Redelivered after the round trip: every id within the lateness is recognised.
    const again = new Observations([batch]);
    const recent = events.filter((e) => e.eventTimeMs > events.at(-1)!.eventTimeMs - 600_000);
    recent.forEach((e, i) => observeEvent(decoded.state, spec, e, again, again.row(0, i), again.aggregateAt(0, i)));
    expect(Array.from(again.flags.subarray(0, recent.length))).toEqual(recent.map(() => 1));
  });

  it('hashes ids into distinct integers below 2^53', () => {
    const hashes = new Set<number>();
    for (let i = 0; i < 1_000_000; i++) {
      const h = idHash(`tx-${i}`);
      expect(Number.isSafeInteger(h) && h >= 0).toBe(true);
      hashes.add(h);
    }
    expect(hashes.size).toBe(1_000_000);
    expect(idHash('tx-1')).toBe(idHash('tx-1'));
    expect(idHash('ab')).not.toBe(idHash('ba'));
  });
});
