// Watches directories for changed files and calls back once a burst of changes has settled
// (an editor writes a file in steps; a mounted ConfigMap swaps its files in one rename).
import { watch, type FSWatcher } from 'node:fs';

export interface Watch {
  close(): void;
}

/** `accept` filters by file name (default: every file); a directory that does not exist is skipped. */
export function watchForChanges(dirs: readonly string[], onChange: () => void, options: { debounceMs?: number; accept?: (file: string) => boolean } = {}): Watch {
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | null = null;
  const schedule = (file: string | null): void => {
    if (options.accept && file !== null && !options.accept(file)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, options.debounceMs ?? 300);
    timer.unref();
  };
  for (const dir of dirs) {
    try {
      const watcher = watch(dir, { recursive: true }, (_event, file) => schedule(file === null ? null : String(file)));
      watcher.on('error', () => watcher.close());
      watchers.push(watcher);
    } catch {
      // Nothing to watch where there is no directory.
    }
  }
  return {
    close: () => {
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
