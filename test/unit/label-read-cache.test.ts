import { describe, expect, it } from 'vitest';
import { LabelReadCache } from '../../src/features/redis/label-read-cache.js';

describe('LabelReadCache', () => {
  it('holds states only under the token they were read with', () => {
    const cache = new LabelReadCache();
    expect(cache.validate('a')).toBe(false);
    cache.hold('k', Buffer.from('v1'));
    cache.hold('empty', null);
    expect(cache.validate('a')).toBe(true);
    expect(cache.get('k')?.toString()).toBe('v1');
    expect(cache.get('empty')).toBeNull();
    expect(cache.get('other')).toBeUndefined();
    expect(cache.validate('b')).toBe(false);
    expect(cache.get('k')).toBeUndefined();
  });

  it('holds a copy, not the reply buffer (a slice of the socket chunk it would keep alive)', () => {
    const cache = new LabelReadCache();
    cache.validate('a');
    const chunk = Buffer.from('xxvalueyy');
    cache.hold('k', chunk.subarray(2, 7));
    chunk.fill(0);
    expect(cache.get('k')?.toString()).toBe('value');
  });

  it('holds nothing without a token (Redis lost it, or no label was ever applied)', () => {
    const cache = new LabelReadCache();
    cache.validate(null);
    cache.hold('k', Buffer.from('v'));
    expect(cache.get('k')).toBeUndefined();
    expect(cache.validate(null)).toBe(false);
  });

  it('drops what it holds after its age limit, however quiet the labels', () => {
    let now = 0;
    const cache = new LabelReadCache(1 << 20, 1000, () => now);
    cache.validate('a');
    cache.hold('k', Buffer.from('v'));
    now = 1000;
    expect(cache.get('k')?.toString()).toBe('v');
    now = 1001;
    expect(cache.get('k')).toBeUndefined();
    expect(cache.validate('a')).toBe(false);
  });

  it('starts over when full rather than growing', () => {
    const cache = new LabelReadCache(1000);
    cache.validate('a');
    for (let i = 0; i < 20; i++) cache.hold(`k${i}`, Buffer.alloc(100));
    const held = Array.from({ length: 20 }, (_, i) => cache.get(`k${i}`)).filter((v) => v !== undefined).length;
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(20);
  });
});
