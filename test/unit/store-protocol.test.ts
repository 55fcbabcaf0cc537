// The store thread's message format: entity batches survive the trip, and each window layout
// is sent once, then named by index.
import { describe, expect, it } from 'vitest';
import type { EntityBatch } from '../../src/features/store.js';
import { LayoutRegistry, LayoutTable } from '../../src/features/threaded/protocol.js';
import { windowSpec } from '../../src/features/windows.js';

const hourly = ['1h', '1d'].map(windowSpec);
const weekly = [{ ...windowSpec('7d'), filter: { bit: 4, expression: "event.channel == 'ecom'" }, extremes: true, distinct: [{ field: 2, name: 'cardId', limit: 10 }] }];

describe('store thread protocol', () => {
  it('rebuilds the entity batches and sends each layout once', () => {
    const batches: EntityBatch[] = [
      { entity: 'account', id: 'a1', windows: hourly, events: [{ transactionId: 't1', eventTimeMs: 1000, amount: 5 }, { transactionId: 't2', eventTimeMs: 2000, amount: 7.5 }] },
      { entity: 'merchant', id: 'm{1}', windows: weekly, events: [{ transactionId: 't1', eventTimeMs: 1000, amount: 5, mask: 5, distinct: Float64Array.of(3, NaN, 2 ** 52) }] },
      { entity: 'card', id: 'c1', windows: hourly, events: [] },
      { entity: 'merchant_labels', id: 'm{1}', windows: weekly, events: [{ transactionId: 't1', eventTimeMs: 1000, amount: 0, readOnly: true }] },
    ];
    const registry = new LayoutRegistry();
    const table = new LayoutTable();
    const first = registry.encode(batches);
    expect(first.newLayouts.map((l) => l.index)).toEqual([0, 1]);
    const decoded = table.decode(structuredClone(first));
    expect(decoded).toEqual(batches);
    // The same layout objects for every entity of a layout: the store caches by identity.
    expect(decoded[0]?.windows).toBe(decoded[2]?.windows);

    const second = registry.encode(batches.slice(1));
    expect(second.newLayouts).toEqual([]);
    expect(table.decode(structuredClone(second))).toEqual(batches.slice(1));
  });

  it('refuses a layout it was never sent', () => {
    const encoded = new LayoutRegistry().encode([{ entity: 'account', id: 'a', windows: hourly, events: [] }]);
    expect(() => new LayoutTable().decode({ ...encoded, newLayouts: [] })).toThrow(/unknown window layout 0/);
  });
});
