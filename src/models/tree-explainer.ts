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

interface Tree {
  feature: Int32Array;
  /** As float32, as the ONNX model compares. */
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  defaultLeft: Uint8Array;
  value: Float64Array;
}

export class TreeExplainer implements Explainer {
  private readonly trees: Tree[];
  private readonly out: Float64Array;

  constructor(
    readonly features: readonly string[],
    trees: z.infer<typeof TREES>['trees'],
  ) {
    this.trees = trees.map((t) => ({
      feature: Int32Array.from(t.feature),
      threshold: Float32Array.from(t.threshold),
      left: Int32Array.from(t.left),
      right: Int32Array.from(t.right),
      defaultLeft: Uint8Array.from(t.defaultLeft, (b) => (b ? 1 : 0)),
      value: Float64Array.from(t.value),
    }));
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
    for (const t of this.trees) {
      let node = 0;
      bias += t.value[0] as number;
      while ((t.feature[node] as number) >= 0) {
        const f = t.feature[node] as number;
        const x = matrix[base + f] as number;
        const goLeft = Number.isNaN(x) ? t.defaultLeft[node] === 1 : x <= (t.threshold[node] as number);
        const next = goLeft ? (t.left[node] as number) : (t.right[node] as number);
        out[f] = (out[f] as number) + (t.value[next] as number) - (t.value[node] as number);
        node = next;
      }
      logOdds += t.value[node] as number;
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
