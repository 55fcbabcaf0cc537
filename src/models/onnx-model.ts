// A model served with onnxruntime-node: loaded only after its card, its features and a
// warm-up run check out, then one `run` per batch on the batch's feature matrix. Batches of
// several partitions that ask in the same turn of the event loop share one `run`: a run's fixed
// cost (and the cache misses of walking every tree) is paid once for them, which at a few
// events per batch is most of the model's time. The only module that imports onnxruntime.
import ort from 'onnxruntime-node';
import { join, dirname } from 'node:path';
import { ModelLoadError } from '../contract/errors.js';
import { TurnBatcher } from '../pipeline/turn-batcher.js';
import { checkFeatures, readModelFiles, type ModelCard } from './model-card.js';
import type { Scorer } from './scorer.js';
import { TreeExplainer } from './tree-explainer.js';

/** Rows of the warm-up run at load. */
const PROBE_ROWS = 16;

interface ScoreRequest {
  matrix: Float32Array;
  rows: number;
}

export class OnnxModel implements Scorer {
  readonly version: string;
  /** Asked for in one turn of the event loop, scored together at its end. */
  private readonly turn = new TurnBatcher<ScoreRequest, Float32Array>((requests) => this.runTogether(requests));
  private runCount = 0;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly card: ModelCard,
    readonly explainer: TreeExplainer | null,
  ) {
    this.version = card.version;
  }

  /** Loads, checks and warms up a model; throws ModelLoadError (FD_MODEL_LOAD or FD_MODEL_MISMATCH) with the cause. */
  static async load(path: string, featureNames: readonly string[]): Promise<OnnxModel> {
    const { bytes, card } = readModelFiles(path);
    checkFeatures(card, featureNames, path);
    let session: ort.InferenceSession;
    try {
      // One thread: the worker's other core runs the feature store.
      session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    } catch (err) {
      throw new ModelLoadError(`${path}: not a model onnxruntime can load: ${(err as Error).message.split('\n')[0] ?? ''}`);
    }
    const width = featureNames.length;
    const input = session.inputMetadata.find((m) => m.name === card.input);
    const declared = input && input.isTensor ? input.shape.at(-1) : undefined;
    if (!session.outputNames.includes(card.output) || input === undefined || (typeof declared === 'number' && declared !== width)) {
      await session.release();
      throw new ModelLoadError(`${path}: expected input ${card.input} of ${width} features and output ${card.output}; the model has inputs ${session.inputNames.join(', ')} (${String(declared)} wide) and outputs ${session.outputNames.join(', ')}`, 'FD_MODEL_MISMATCH');
    }
    const explainer = card.contributions ? TreeExplainer.load(join(dirname(path), card.contributions.file), card.features) : null;
    const model = new OnnxModel(session, card, explainer);
    await model.warmUp(path);
    return model;
  }

  score(matrix: Float32Array, rows: number, width: number): Promise<Float32Array> {
    if (rows === 0) return Promise.resolve(new Float32Array(0));
    if (width !== this.card.features.length) return Promise.reject(new Error(`a ${width}-feature matrix for a model of ${this.card.features.length} features`));
    return this.turn.submit({ matrix: matrix.subarray(0, rows * width), rows });
  }

  /** onnxruntime runs so far (batches that asked in the same turn share one). */
  get runs(): number {
    return this.runCount;
  }

  /** One run for every request of the turn; each gets its own rows' probabilities. */
  private async runTogether(requests: readonly ScoreRequest[]): Promise<PromiseSettledResult<Float32Array>[]> {
    const width = this.card.features.length;
    this.runCount++;
    const total = requests.reduce((n, r) => n + r.rows, 0);
    let matrix = (requests[0] as ScoreRequest).matrix;
    if (requests.length > 1) {
      matrix = new Float32Array(total * width);
      let at = 0;
      for (const r of requests) {
        matrix.set(r.matrix, at);
        at += r.matrix.length;
      }
    }
    const result = await this.session.run({ [this.card.input]: new ort.Tensor('float32', matrix, [total, width]) }, [this.card.output]);
    const probabilities = result[this.card.output]?.data as Float32Array;
    // Column 1 of [rows, 2]: the probability of fraud.
    let row = 0;
    return requests.map((r) => {
      const out = new Float32Array(r.rows);
      for (let i = 0; i < r.rows; i++) out[i] = probabilities[(row + i) * 2 + 1] as number;
      row += r.rows;
      return { status: 'fulfilled', value: out };
    });
  }

  close(): Promise<void> {
    return this.session.release();
  }

  /**
   * Scores probe rows (zeros, and spread values) once: the output must be probabilities, and
   * the trees must give the model's own score, or the explanations would not add up.
   */
  private async warmUp(path: string): Promise<void> {
    const width = this.card.features.length;
    const probe = new Float32Array(PROBE_ROWS * width);
    for (let i = width; i < probe.length; i++) probe[i] = ((i * 7919) % 1000) / ((i % 5) + 1);
    let scores: Float32Array;
    try {
      scores = await this.score(probe, PROBE_ROWS, width);
    } catch (err) {
      throw new ModelLoadError(`${path}: the warm-up run failed: ${(err as Error).message.split('\n')[0] ?? ''}`);
    }
    if (!scores.every((s) => s >= 0 && s <= 1)) throw new ModelLoadError(`${path}: output ${this.card.output} column 1 is not a probability`);
    if (this.explainer === null) return;
    for (let row = 0; row < PROBE_ROWS; row++) {
      const p = 1 / (1 + Math.exp(-this.explainer.explain(probe, row).logOdds));
      if (Math.abs(p - (scores[row] as number)) > 1e-4) throw new ModelLoadError(`${path}: its trees give ${p.toFixed(6)} where the model gives ${(scores[row] as number).toFixed(6)}: they are not this model's`, 'FD_MODEL_MISMATCH');
    }
  }
}
