// Sorting in bounded memory: runs spilled to temporary files and merged give the same order as
// an in-memory sort (key, then tie), payloads intact, and the files are removed afterwards.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExternalSorter, type SortRecord } from '../../src/offline/external-sort.js';

async function all(records: AsyncIterable<SortRecord>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of records) out.push(`${r.key}/${r.tie}/${r.payload.toString()}`);
  return out;
}

const sortDirs = (): string[] => readdirSync(tmpdir()).filter((d) => d.startsWith('fd-sort-'));

describe('ExternalSorter', () => {
  it.each([100, 1_000, 1 << 30])('gives (key, tie) order whether it spills or not (held bytes %i)', async (held) => {
    const sorter = new ExternalSorter(held);
    const expected: { key: number; tie: number; payload: string }[] = [];
    let s = 17;
    for (let i = 0; i < 500; i++) {
      s = (s * 48_271) % 2_147_483_647;
      // Few distinct keys, so ties decide much of the order; payloads of varied length, one long.
      const r = { key: s % 37, tie: i, payload: `p${i}-${'x'.repeat(i === 250 ? 3_000_000 : s % 50)}` };
      expected.push(r);
      await sorter.add(r.key, r.tie, Buffer.from(r.payload));
    }
    expected.sort((a, b) => a.key - b.key || a.tie - b.tie);
    const before = sortDirs().length;
    const got = await all(sorter.sorted());
    if (held < 1 << 30) expect(sorter.spilled).toBeGreaterThan(1);
    else expect(sorter.spilled).toBe(0);
    expect(got).toEqual(expected.map((r) => `${r.key}/${r.tie}/${r.payload}`));
    await sorter.dispose();
    expect(sortDirs().length).toBeLessThanOrEqual(before);
  });

  it('sorts nothing to nothing', async () => {
    const sorter = new ExternalSorter(10);
    expect(await all(sorter.sorted())).toEqual([]);
    expect(sorter.spilled).toBe(0);
    await sorter.dispose();
  });

  it('removes its runs when the process exits before they are disposed of (a replay stopped by Ctrl-C)', () => {
    const module = join(import.meta.dirname, '..', '..', 'src', 'offline', 'external-sort.ts');
    const code = [
      `const { ExternalSorter } = await import(${JSON.stringify(module)});`,
      'const sorter = new ExternalSorter(10);',
      "for (let i = 0; i < 5; i++) await sorter.add(i, i, Buffer.from('payload'));",
      "const dir = (await import('node:path')).dirname(sorter.runs[0]);",
      'console.log(dir);',
      'process.exit(130);',
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(130);
    const dir = child.stdout.trim();
    expect(dir).toContain('fd-sort-');
    expect(existsSync(dir)).toBe(false);
  });
});
