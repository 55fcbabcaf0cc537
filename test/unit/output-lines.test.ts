// Decision lines encoded straight into one buffer: the same bytes as joining them and encoding
// the result, whatever mix of one-, two-, three- and four-byte characters they hold.
import { describe, expect, it } from 'vitest';
import { linesBytes } from '../../src/offline/output-lines.js';

describe('linesBytes', () => {
  it.each([
    ['none', []],
    ['ASCII', ['{"a":1}', '{"b":"x"}']],
    ['an empty line', ['', 'x', '']],
    ['multi-byte at the end', ['{"a":1}', 'é'.repeat(50), '€'.repeat(40), '😀'.repeat(30)]],
    ['only multi-byte', ['€€€', '😀']],
    ['long', Array.from({ length: 1000 }, (_, i) => `{"i":${i},"s":"${'ü'.repeat(i % 7)}"}`)],
  ])('encodes %s as join-then-encode does', (_, lines) => {
    const expected = Buffer.from(lines.map((l) => `${l}\n`).join(''));
    expect(linesBytes(lines).equals(expected)).toBe(true);
  });
});

describe('linesBytes with a line per item', () => {
  it.each([
    ['none', []],
    ['lines longer than the first, past the room it is sized for', ['x', ...Array.from({ length: 50 }, (_, i) => 'y'.repeat(100 * i))]],
    ['multi-byte lines after an ASCII first', ['{}', ...Array.from({ length: 200 }, (_, i) => '€😀é'.repeat(i))]],
  ])('makes each line from its item, as encoding the mapped lines does: %s', (_, lines) => {
    const items = lines.map((text, i) => ({ i, text }));
    const expected = Buffer.from(lines.map((l, i) => `${i}:${l}\n`).join(''));
    expect(linesBytes(items, (item) => `${item.i}:${item.text}`).equals(expected)).toBe(true);
  });
});
