// Hot reload of the rules and lists (on SIGHUP, or when their files change): a valid new
// version replaces the running one, which the pipeline reads once per batch; an invalid one
// is refused and the running version stays. A change that leaves the version as it was (a
// touched file) does nothing.
import type { RuleSet } from './rule-set.js';

export interface ReloadHooks {
  current: () => RuleSet;
  load: () => RuleSet;
  apply: (next: RuleSet) => void;
  onReloaded: (next: RuleSet, trigger: string) => void;
  onRefused: (err: Error, trigger: string) => void;
}

export class RulesReloader {
  constructor(private readonly hooks: ReloadHooks) {}

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
}
