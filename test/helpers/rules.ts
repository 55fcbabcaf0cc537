// Writes rules files (and lists, as `lists/<name>.txt` keys) into a fresh temporary directory.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function rulesDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fd-rules-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
