// The aggregation table is the one place an aggregation is defined: every entry loads from a
// definitions file, is planned with the series state it needs, and is derived as its entry says.
import { describe, expect, it } from 'vitest';
import { AGGREGATION_NAMES, AGGREGATIONS } from '../../src/features/aggregations.js';
import { parseFeatureSet } from '../../src/features/load.js';

function definition(name: string): string {
  const kind = AGGREGATIONS[name as keyof typeof AGGREGATIONS];
  const lines = [`  - entity: ${kind.source === 'labels' ? 'merchant' : 'account'}`, `    aggregation: ${name}`];
  if (kind.source !== 'previous-event') lines.push('    window: 1h');
  if (kind.needs === 'distinct') lines.push('    of: merchant');
  return `features:\n${lines.join('\n')}\n`;
}

describe('the aggregation table', () => {
  it('every entry loads from a definitions file, with the series state it needs', () => {
    for (const name of AGGREGATION_NAMES) {
      if (name === 'seconds_since_last') continue; // account.seconds_since_last is always in the set
      const set = parseFeatureSet('table.yaml', definition(name));
      const def = set.windowed.find((d) => d.aggregation === name);
      expect(def, name).toBeDefined();
      const series = set.entities.find((e) => e.entity === def?.entity)?.windows[def?.series ?? -1];
      const kind = AGGREGATIONS[name];
      expect(series?.extremes === true, `${name}: extremes`).toBe(kind.needs === 'extremes');
      expect((series?.distinct?.length ?? 0) > 0, `${name}: distinct`).toBe(kind.needs === 'distinct');
      expect(def?.entity.endsWith('_labels'), `${name}: over labels`).toBe(kind.source === 'labels');
    }
  });

  it('derives each value from count, sum, sum of squares, its own value and the amount', () => {
    // Amounts 2 and 4: count 2, sum 6, sum of squares 20; this payment 9; min 2, max 4, 3 distinct.
    const d = (name: keyof typeof AGGREGATIONS, value = NaN): number => AGGREGATIONS[name].derive(2, 6, 20, value, 9);
    expect(d('count')).toBe(2);
    expect(d('sum')).toBe(6);
    expect(d('mean')).toBe(3);
    expect(d('std')).toBe(1);
    expect(d('amount_ratio')).toBe(3);
    expect(d('min', 2)).toBe(2);
    expect(d('max', 4)).toBe(4);
    expect(d('max')).toBe(0); // an empty window's extremes read 0
    expect(d('distinct', 3)).toBe(3);
    expect(d('labelled_count')).toBe(2);
    expect(d('fraud_count')).toBe(6);
    expect(d('fraud_rate')).toBe(3);
    expect(AGGREGATIONS.std.derive(1, 5, 25, NaN, 5)).toBe(0); // one payment has no spread
    expect(AGGREGATIONS.amount_ratio.derive(0, 0, 0, NaN, 5)).toBe(1); // no history: ratio 1
  });
});
