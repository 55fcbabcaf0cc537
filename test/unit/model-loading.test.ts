// Serving a model: the shipped one loads and scores in batches, its explanations add up to
// its scores, and a model that does not fit is refused with the reason (features, a corrupt
// file, a card or trees of another model), never half-loaded.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ModelLoadError } from '../../src/contract/errors.js';
import { DEFAULT_FEATURE_SET } from '../../src/features/definitions.js';
import { featureSetFor, policyFor } from '../../src/cli/build.js';
import { loadFeatureSet } from '../../src/features/load.js';
import { ModelSlot } from '../../src/models/model-slot.js';
import { OnnxModel } from '../../src/models/onnx-model.js';
import type { Scorer } from '../../src/models/scorer.js';

const DEFAULT = 'models/default.onnx';
const ALT = 'test/fixtures/models/alt.onnx';

async function refusal(path: string, names: readonly string[] = DEFAULT_FEATURE_SET.names): Promise<ModelLoadError> {
  try {
    await OnnxModel.load(path, names);
  } catch (err) {
    if (err instanceof ModelLoadError) return err;
    throw err;
  }
  throw new Error('the model was accepted');
}

/** A copy of a model in a fresh directory, as `name.onnx` with its card and trees. */
function copyModel(from: string, name = 'm'): string {
  const dir = mkdtempSync(join(tmpdir(), 'fd-model-'));
  const stem = from.replace(/\.onnx$/, '');
  copyFileSync(from, join(dir, `${name}.onnx`));
  copyFileSync(`${stem}.card.json`, join(dir, `${name}.card.json`));
  const card = JSON.parse(readFileSync(`${stem}.card.json`, 'utf8')) as { contributions: { file: string } };
  copyFileSync(join(stem, '..', card.contributions.file), join(dir, card.contributions.file));
  return join(dir, `${name}.onnx`);
}

describe('the shipped model', () => {
  it('loads against the default features and scores a batch in one run, explanations adding up', async () => {
    const model = await OnnxModel.load(DEFAULT, DEFAULT_FEATURE_SET.names);
    try {
      expect(model.version).toMatch(/^default@[0-9a-f]{12}$/);
      const width = DEFAULT_FEATURE_SET.names.length;
      const rows = 64;
      const matrix = new Float32Array(rows * width);
      for (let i = 0; i < matrix.length; i++) matrix[i] = ((i * 2654435761) % 997) / 10;
      const scores = await model.score(matrix, rows, width);
      expect(scores).toHaveLength(rows);
      expect(scores.every((s) => s >= 0 && s <= 1)).toBe(true);
      expect(new Set(scores).size).toBeGreaterThan(10);
      for (let row = 0; row < rows; row++) {
        const { bias, logOdds, contributions } = (model.explainer as NonNullable<typeof model.explainer>).explain(matrix, row);
        expect(bias + contributions.reduce((a, b) => a + b, 0)).toBeCloseTo(logOdds, 9);
        expect(1 / (1 + Math.exp(-logOdds))).toBeCloseTo(scores[row] as number, 4);
      }
      const top = model.explainer?.top(matrix, 0, 5) ?? [];
      expect(top.length).toBeGreaterThan(0);
      expect(top.every((c, i) => i === 0 || c.contribution <= (top[i - 1]?.contribution ?? Infinity))).toBe(true);
    } finally {
      await model.close();
    }
  });

  it('scores the batches that ask in the same turn in one run, each getting its own rows', async () => {
    const model = await OnnxModel.load(DEFAULT, DEFAULT_FEATURE_SET.names);
    try {
      const width = DEFAULT_FEATURE_SET.names.length;
      const matrix = new Float32Array(9 * width);
      for (let i = 0; i < matrix.length; i++) matrix[i] = ((i * 2654435761) % 997) / 10;
      // Three batches of 3, 1 and 5 rows, each a matrix of its own (longer than its rows, as the engine's may be).
      const parts = [matrix.slice(0, 4 * width), matrix.slice(3 * width, 4 * width), matrix.slice(4 * width)];
      const rows = [3, 1, 5];
      const alone: Float32Array[] = [];
      for (const [i, part] of parts.entries()) alone.push(await model.score(part, rows[i] as number, width));
      const before = model.runs;
      const together = await Promise.all(parts.map((part, i) => model.score(part, rows[i] as number, width)));
      expect(model.runs - before).toBe(1);
      expect(together.map((s) => [...s])).toEqual(alone.map((s) => [...s]));
      expect(together.map((s) => s.length)).toEqual(rows);
      await expect(model.score(matrix, 1, width - 1)).rejects.toThrow(`a ${width - 1}-feature matrix`);
    } finally {
      await model.close();
    }
  });

  it('brings its thresholds, unless the configuration sets them', async () => {
    const slot = new ModelSlot(await OnnxModel.load(DEFAULT, DEFAULT_FEATURE_SET.names));
    const card = slot.model.card.thresholds;
    expect(policyFor(loadConfig({}), slot)).toEqual({ reviewThreshold: card.review, blockThreshold: card.block });
    expect(policyFor(loadConfig({ REVIEW_THRESHOLD: '0.3' }), slot)).toEqual({ reviewThreshold: 0.3, blockThreshold: card.block });
    await slot.close();
  });
});

describe('refusing a model', () => {
  it('whose features are not the feature set\'s, saying which', async () => {
    const err = await refusal(DEFAULT, DEFAULT_FEATURE_SET.names.slice(0, 17));
    expect(err.code).toBe('FD_MODEL_MISMATCH');
    expect(err.message).toMatch(/the model expects 20 features, the feature set has 17; not in the feature set: card\.ecom_count_1h, merchant\.fraud_count_7d, merchant\.fraud_rate_7d/);
    const swapped = [...DEFAULT_FEATURE_SET.names];
    [swapped[4], swapped[5]] = [swapped[5] as string, swapped[4] as string];
    expect((await refusal(DEFAULT, swapped)).message).toMatch(/in another order from position 5 \(model: account\.count_10m, feature set: account\.count_1h\)/);
  });

  it('that is not an ONNX file, though its card matches it', async () => {
    const path = copyModel(DEFAULT);
    const garbage = Buffer.from('this is not a model');
    writeFileSync(path, garbage);
    const card = JSON.parse(readFileSync(path.replace(/\.onnx$/, '.card.json'), 'utf8')) as { sha256: string };
    card.sha256 = createHash('sha256').update(garbage).digest('hex');
    writeFileSync(path.replace(/\.onnx$/, '.card.json'), JSON.stringify(card));
    const err = await refusal(path);
    expect(err.code).toBe('FD_MODEL_LOAD');
    expect(err.message).toMatch(/not a model onnxruntime can load: .*protobuf parsing failed/);
  });

  it('whose card is another model\'s, or missing', async () => {
    const path = copyModel(DEFAULT);
    copyFileSync(ALT, path);
    expect((await refusal(path)).message).toMatch(/the card is for another file/);
    expect((await refusal(join(tmpdir(), 'nowhere.onnx'))).message).toMatch(/cannot read the model/);
    const lonely = copyModel(DEFAULT);
    writeFileSync(lonely.replace(/\.onnx$/, '.card.json'), '{"cardVersion": 1}');
    expect((await refusal(lonely)).message).toMatch(/not a model card: name/);
  });

  it('whose trees are another model\'s: its explanations would not add up', async () => {
    const path = copyModel(DEFAULT);
    const card = JSON.parse(readFileSync(path.replace(/\.onnx$/, '.card.json'), 'utf8')) as { contributions: { file: string } };
    copyFileSync('test/fixtures/models/alt.trees.json', join(path, '..', card.contributions.file));
    const err = await refusal(path);
    expect(err.code).toBe('FD_MODEL_MISMATCH');
    expect(err.message).toMatch(/its trees give .* where the model gives .*: they are not this model's/);
  });
});

describe('the model slot', () => {
  it('swaps between batches: a batch in flight keeps its model, which closes once it returns', async () => {
    const closed: string[] = [];
    const fake = (version: string): Scorer => ({ version, score: (_m, rows) => Promise.resolve(new Float32Array(rows).fill(version === 'a' ? 0.1 : 0.9)), close: () => (closed.push(version), Promise.resolve()) });
    const slot = new ModelSlot(fake('a'));
    const lease = slot.lease();
    slot.swap(fake('b'));
    expect(slot.version).toBe('b');
    expect(closed).toEqual([]);
    expect(Array.from(await lease.scorer.score(new Float32Array(2), 2, 1))).toEqual([Math.fround(0.1), Math.fround(0.1)]);
    lease.release();
    expect(closed).toEqual(['a']);
    expect(Array.from(await slot.score(new Float32Array(1), 1, 1))).toEqual([Math.fround(0.9)]);
  });
});

describe('a model whose card names its feature file (train --search)', () => {
  /** The fixture model, its card naming `m.features.yaml` (here the built-in set, which the model was trained on). */
  function withFeatureFile(): { model: string; features: string } {
    const model = copyModel(ALT);
    const features = model.replace(/\.onnx$/, '.features.yaml');
    writeFileSync(features, readFileSync('features/default.yaml'));
    const cardPath = model.replace(/\.onnx$/, '.card.json');
    const card = JSON.parse(readFileSync(cardPath, 'utf8')) as Record<string, unknown>;
    card.featuresFile = { file: 'm.features.yaml', sha256: createHash('sha256').update(readFileSync(features)).digest('hex') };
    writeFileSync(cardPath, JSON.stringify(card));
    return { model, features };
  }

  it('is served with that file when FEATURES_FILE is unset, and FEATURES_FILE still wins', () => {
    const { model } = withFeatureFile();
    expect(featureSetFor(loadConfig({ MODEL_PATH: model })).names).toEqual(DEFAULT_FEATURE_SET.names);
    expect(featureSetFor(loadConfig({ MODEL_PATH: model, FEATURES_FILE: 'features/lean.yaml' })).names).toEqual(loadFeatureSet('features/lean.yaml').names);
  });

  it('is refused when the file changed since training, or is gone', () => {
    const { model, features } = withFeatureFile();
    writeFileSync(features, `${readFileSync(features, 'utf8')}  - { entity: ip, aggregation: count, window: 1h }\n`);
    expect(() => featureSetFor(loadConfig({ MODEL_PATH: model }))).toThrow(expect.objectContaining({ code: 'FD_MODEL_MISMATCH', message: expect.stringMatching(/changed since the model was trained on it/) as unknown }));
    rmSync(features);
    expect(() => featureSetFor(loadConfig({ MODEL_PATH: model }))).toThrow(/trained on the features in .*m\.features\.yaml, which cannot be read/);
  });
});
