// The offline commands read lines as bytes: \n and \r\n end a line, an empty line is a line,
// bad UTF-8 reaches the validation unchanged, and a line over the limit is counted, not held.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { InvalidEventError } from '../../src/contract/errors.js';
import { readLines, readTransactions } from '../../src/offline/input-lines.js';
import { EVENT_LIMITS, tx } from '../helpers/events.js';

function file(content: Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'fd-lines-')), 'in.jsonl');
  writeFileSync(path, content);
  return path;
}

async function linesOf(path: string, maxBytes: number): Promise<{ lineNo: number; value: string | null; bytes: number }[]> {
  const out = [];
  for await (const l of readLines(path, maxBytes)) out.push({ lineNo: l.lineNo, value: l.value?.toString('latin1') ?? null, bytes: l.bytes });
  return out;
}

describe('offline input lines', () => {
  it('splits on \\n and \\r\\n, keeps empty lines, reads a last line without its newline', async () => {
    const path = file(Buffer.from('ab\r\n\ncd\n\r\nef'));
    expect(await linesOf(path, 100)).toEqual([
      { lineNo: 1, value: 'ab', bytes: 2 },
      { lineNo: 2, value: '', bytes: 0 },
      { lineNo: 3, value: 'cd', bytes: 2 },
      { lineNo: 4, value: '', bytes: 0 },
      { lineNo: 5, value: 'ef', bytes: 2 },
    ]);
  });

  it('counts a line over the limit without holding it, across read chunks', async () => {
    const path = file(Buffer.from(`${'x'.repeat(200_000)}\r\nok\n`));
    expect(await linesOf(path, 1000)).toEqual([
      { lineNo: 1, value: null, bytes: 200_000 },
      { lineNo: 2, value: 'ok', bytes: 2 },
    ]);
  });

  it('gives a line of exactly the limit, \\r\\n-terminated, as it is', async () => {
    const path = file(Buffer.from(`${'y'.repeat(10)}\r\n`));
    expect(await linesOf(path, 10)).toEqual([{ lineNo: 1, value: 'y'.repeat(10), bytes: 10 }]);
  });

  it('refuses each bad line with the code run gives it, and keeps the valid ones', async () => {
    const valid = JSON.stringify(tx({ transactionId: 'v' }));
    const badUtf8 = Buffer.concat([Buffer.from(valid.slice(0, -1) + ',"n":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]);
    const path = file(Buffer.concat([Buffer.from(`${valid}\n\n`), badUtf8, Buffer.from(`\n${valid.slice(0, -1)},"x":"${'z'.repeat(70_000)}"}\n{"a":1,"a":2}\n[`)]));
    const rejected: [number, string][] = [];
    const lines = await readTransactions(path, EVENT_LIMITS, (_, lineNo, err: InvalidEventError) => rejected.push([lineNo, err.code]));
    expect(lines.map((l) => [l.lineNo, l.tx.event.transactionId])).toEqual([[1, 'v']]);
    expect(rejected).toEqual([[2, 'FD_EVENT_EMPTY'], [3, 'FD_EVENT_NOT_UTF8'], [4, 'FD_EVENT_TOO_LARGE'], [5, 'FD_EVENT_DUPLICATE_KEY'], [6, 'FD_EVENT_NOT_JSON']]);
  });
});
