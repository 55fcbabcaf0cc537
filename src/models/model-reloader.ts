// Hot swap of a model file (on SIGHUP, or when the model or its card changes): the new file is
// loaded, checked and warmed up beside the running model, and takes its slot only then; a
// file that fails any check is refused and the running model stays.
import type { ModelSlot } from './model-slot.js';
import type { OnnxModel } from './onnx-model.js';

export interface ModelReloadHooks {
  load: () => Promise<OnnxModel>;
  onSwapped: (next: OnnxModel, previous: OnnxModel, trigger: string) => void;
  onRefused: (err: Error, trigger: string) => void;
}

export class ModelReloader {
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly slot: ModelSlot<OnnxModel>,
    private readonly hooks: ModelReloadHooks,
  ) {}

  /** Reloads after any reload already under way; resolves once this one is done. */
  reload(trigger: string): Promise<void> {
    this.running = this.running.then(() => this.attempt(trigger));
    return this.running;
  }

  private async attempt(trigger: string): Promise<void> {
    let next: OnnxModel;
    try {
      next = await this.hooks.load();
    } catch (err) {
      this.hooks.onRefused(err as Error, trigger);
      return;
    }
    if (trigger !== 'SIGHUP' && next.version === this.slot.version) {
      await next.close();
      return;
    }
    const previous = this.slot.swap(next);
    this.hooks.onSwapped(next, previous, trigger);
  }
}
