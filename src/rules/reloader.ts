// Hot reload of the rules and lists: on SIGHUP, or when a file in the watched directories
// changes (a mounted ConfigMap swaps its files in one rename). A valid new version replaces
// the running one, which the pipeline reads once per batch; an invalid one is refused and the
// running version stays. Changes that leave the version as it was (a touched file) do nothing.
import { watch, type FSWatcher } from 'node:fs';
import type { RuleSet } from './rule-set.js';

export interface ReloadHooks {
  current: () => RuleSet;
  load: () => RuleSet;
  apply: (next: RuleSet) => void;
  onReloaded: (next: RuleSet, trigger: string) => void;
  onRefused: (err: Error, trigger: string) => void;
}

export class RulesReloader {
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly hooks: ReloadHooks,
    /** File events within this long count as one change (an editor writes a file in steps). */
    private readonly debounceMs = 300,
  ) {}

  /** Loads the rules now; returns whether a new version went live. */
  reload(trigger: string): boolean {
    let next: RuleSet;
    try {
      next = this.hooks.load();
    } catch (err) {
      this.hooks.onRefused(err as Error, trigger);
      return false;
    }
    if (trigger !== 'SIGHUP' && next.version === this.hooks.current().version) return false;
    this.hooks.apply(next);
    this.hooks.onReloaded(next, trigger);
    return true;
  }

  /** Watches the directories (and below) that exist; a change reloads after the debounce. */
  watch(dirs: readonly string[]): void {
    for (const dir of dirs) {
      try {
        const watcher = watch(dir, { recursive: true }, () => this.schedule());
        watcher.on('error', () => watcher.close());
        this.watchers.push(watcher);
      } catch {
        // A directory that does not exist (no lists) has nothing to watch.
      }
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reload('file change');
    }, this.debounceMs);
    this.timer.unref();
  }
}
