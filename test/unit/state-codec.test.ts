// An entity's state survives encoding, dedupe hashes included, and ids hash into 53 bits.
import { describe, expect, it } from 'vitest';
import { observeEvent, StateArena } from '../../src/features/entity-state.js';
import { idHash } from '../../src/features/id-hash.js';
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

  it('keeps extremes and distinct values: a decoded state goes on exactly like the original', () => {
    const rich = [
      { ...windowSpec('1h'), extremes: true, distinct: [{ field: 0, name: 'cardId', limit: 5 }, { field: 1, name: 'ipAddress', limit: 100 }] },
      { ...windowSpec('1d'), filter: { bit: 1, expression: 'x' }, distinct: [{ field: 1, name: 'ipAddress', limit: 100 }] },
    ];
    const richSpec = stateSpec(rich, 900_000);
    const t = Date.parse('2026-03-01T12:00:00Z');
    const events = Array.from({ length: 400 }, (_, i) => ({
      transactionId: `tx-${i}`,
      eventTimeMs: t + i * 61_000 - (i % 7 === 0 ? 600_000 : 0),
      amount: (i * 37) % 101,
      mask: i % 3 === 0 ? 0 : 1,
      distinct: Float64Array.of(i % 11, i % 13 === 0 ? NaN : i % 29),
    }));
    const batch: EntityBatch = { entity: 'device', id: 'd', windows: rich, events };
    const original = new StateArena().take(richSpec);
    const first = new Observations([batch]);
    events.slice(0, 200).forEach((e, i) => observeEvent(original, richSpec, e, first, first.row(0, i), first.aggregateAt(0, i)));
    const decoded = decodeState(encodeState(original, 7, richSpec), richSpec, new StateArena()).state;
    const [a, b] = [new Observations([batch]), new Observations([batch])];
    events.slice(200).forEach((e, i) => {
      observeEvent(original, richSpec, e, a, a.row(0, i), a.aggregateAt(0, i));
      observeEvent(decoded, richSpec, e, b, b.row(0, i), b.aggregateAt(0, i));
    });
    expect(b.entry(0)).toEqual(a.entry(0));
    expect(a.entry(0).slice(0, 200).some((o) => (o.windows[0]?.distinct?.[0] ?? 0) === 5)).toBe(true);
    expect(encodeState(decoded, 7, richSpec)).toEqual(encodeState(original, 7, richSpec));
  });

  it('writes a plain window as before extremes and distinct counts existed (stored states stay readable)', () => {
    const plain = [windowSpec('10m')];
    const plainSpec = stateSpec(plain, 900_000);
    const state = new StateArena().take(plainSpec);
    const t = 1_772_366_400_000;
    const out = new Observations([{ entity: 'account', id: 'a', windows: plain, events: [{ transactionId: 'only', eventTimeMs: t, amount: 3 }] }]);
    observeEvent(state, plainSpec, { transactionId: 'only', eventTimeMs: t, amount: 3 }, out, 0, 0);
    const bucket = Math.floor(t / 60_000);
    const dedupeBucket = Math.floor(t / 225_000);
    const doubles = Array.from(new Float64Array(new Uint8Array(encodeState(state, 9, plainSpec)).buffer));
    // version, last, windows; start, count, sum, sumSq, filled slots; slot, bucket, count, sum, sumSq; dedupe slots; slot, bucket, ids, hash
    expect(doubles).toEqual([9, t, 1, bucket - 9, 1, 3, 9, 1, bucket % 27, bucket, 1, 3, 9, 1, dedupeBucket % 6, dedupeBucket, 1, idHash('only')]);
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
