// Explanations of a tree ensemble's score, from the booster's own trees (exported by
// training/train.py beside the ONNX model). Each split on an event's path moves the tree's
// value from the node's to the child's; that change is the split feature's contribution
// (Saabas's attribution, a fast approximation of TreeSHAP). For every event the bias plus the
// contributions is exactly the model's log-odds, so the explanation adds up to the score.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { FeatureContribution } from '../contract/decision.js';
import { ModelLoadError } from '../contract/errors.js';
import type { Explainer } from './scorer.js';

const TREES = z.object({
  kind: z.literal('lightgbm-saabas'),
  features: z.array(z.string()),
  trees: z.array(z.object({ feature: z.array(z.number().int()), threshold: z.array(z.number()), left: z.array(z.number().int()), right: z.array(z.number().int()), defaultLeft: z.array(z.boolean()), value: z.array(z.number()) })),
});

/**
 * Every tree's nodes in one set of arrays, tree after tree (children as indices into them), so
 * an explanation walks a few contiguous arrays rather than six per tree: an alert is explained
 * rarely, and the trees' arrays were out of cache by then.
 */
interface Forest {
  /** Per tree, its root's index. */
  roots: Int32Array;
  /** Per node: the feature it splits on; negative for a leaf. */
  feature: Int32Array;
  /** As float32, as the ONNX model compares. */
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  defaultLeft: Uint8Array;
  value: Float64Array;
}

/**
 * The trees as one Forest, read exactly as each tree's own arrays were: a node past the end of
 * one of them reads as missing there (no feature: a leaf; no value: NaN), and a child outside
 * its tree points at a last node that is a leaf of value NaN (reading past a tree's arrays gave
 * undefined: NaN, and the walk stopped).
 */
function forestOf(trees: z.infer<typeof TREES>['trees']): Forest {
  const sizeOf = (t: (typeof trees)[number]): number => Math.max(t.feature.length, t.threshold.length, t.left.length, t.right.length, t.defaultLeft.length, t.value.length);
  const nodes = trees.reduce((n, t) => n + sizeOf(t), 0);
  const outside = nodes;
  const f: Forest = {
    roots: new Int32Array(trees.length),
    feature: new Int32Array(nodes + 1),
    threshold: new Float32Array(nodes + 1),
    left: new Int32Array(nodes + 1),
    right: new Int32Array(nodes + 1),
    defaultLeft: new Uint8Array(nodes + 1),
    value: new Float64Array(nodes + 1),
  };
  // Indices were held as Int32Array values (i | 0).
  const child = (base: number, size: number, i: number | undefined): number => {
    const j = i === undefined ? -1 : i | 0;
    return j >= 0 && j < size ? base + j : outside;
  };
  let base = 0;
  trees.forEach((t, k) => {
    const size = sizeOf(t);
    f.roots[k] = size > 0 ? base : outside;
    for (let i = 0; i < size; i++) {
      f.feature[base + i] = t.feature[i] ?? -1;
      f.threshold[base + i] = t.threshold[i] as number;
      f.left[base + i] = child(base, size, t.left[i]);
      f.right[base + i] = child(base, size, t.right[i]);
      f.defaultLeft[base + i] = t.defaultLeft[i] === true ? 1 : 0;
      f.value[base + i] = t.value[i] ?? NaN;
    }
    base += size;
  });
  f.feature[outside] = -1;
  f.value[outside] = NaN;
  return f;
}

export class TreeExplainer implements Explainer {
  private readonly forest: Forest;
  private readonly out: Float64Array;

  constructor(
    readonly features: readonly string[],
    trees: z.infer<typeof TREES>['trees'],
  ) {
    this.forest = forestOf(trees);
    this.out = new Float64Array(features.length);
  }

  static load(file: string, features: readonly string[]): TreeExplainer {
    let parsed;
    try {
      parsed = TREES.parse(JSON.parse(readFileSync(file, 'utf8')));
    } catch (err) {
      throw new ModelLoadError(`${file}: cannot read the model's trees: ${(err as Error).message.split('\n')[0] ?? ''}`);
    }
    if (parsed.features.join('\0') !== features.join('\0')) throw new ModelLoadError(`${file}: the trees are for other features than the model's`, 'FD_MODEL_MISMATCH');
    return new TreeExplainer(parsed.features, parsed.trees);
  }

  /** The log-odds of row `row` of a row-major matrix, and each feature's contribution to it (in `contributions`, valid until the next call). */
  explain(matrix: Float32Array, row: number): { bias: number; logOdds: number; contributions: Float64Array } {
    const width = this.features.length;
    const base = row * width;
    const out = this.out.fill(0);
    let bias = 0;
    let logOdds = 0;
    const { roots, feature, threshold, left, right, defaultLeft, value } = this.forest;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t] as number;
      bias += value[node] as number;
      while ((feature[node] as number) >= 0) {
        const f = feature[node] as number;
        const x = matrix[base + f] as number;
        const goLeft = Number.isNaN(x) ? defaultLeft[node] === 1 : x <= (threshold[node] as number);
        const next = goLeft ? (left[node] as number) : (right[node] as number);
        out[f] = (out[f] as number) + (value[next] as number) - (value[node] as number);
        node = next;
      }
      logOdds += value[node] as number;
    }
    return { bias, logOdds, contributions: out };
  }

  /** The k features that pushed row `row` towards fraud the most. */
  top(matrix: Float32Array, row: number, k: number): FeatureContribution[] {
    const { contributions } = this.explain(matrix, row);
    const width = this.features.length;
    const order = Array.from({ length: width }, (_, i) => i).sort((a, b) => (contributions[b] as number) - (contributions[a] as number));
    return order
      .slice(0, k)
      .filter((i) => (contributions[i] as number) > 0)
      .map((i) => ({ feature: this.features[i] as string, value: matrix[row * width + i] as number, contribution: Math.round((contributions[i] as number) * 1e4) / 1e4 }));
  }
}
