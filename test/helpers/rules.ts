// Writes rules files into a fresh temporary directory.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function rulesDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fd-rules-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
