// The model card: what `fraud-detector train` writes beside a model, and what serving checks
// before it scores with it (the file's hash, the features in order, the input and output).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { ModelLoadError } from '../contract/errors.js';

const WINDOW = z.looseObject({ from: z.string(), until: z.string(), rows: z.number(), frauds: z.number(), aucRoc: z.number().nullable(), averagePrecision: z.number().nullable(), cardPrecisionAt100: z.number().nullable() });

export const MODEL_CARD = z.looseObject({
  cardVersion: z.literal(1),
  name: z.string().min(1),
  version: z.string().min(1),
  file: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  input: z.string().min(1),
  output: z.string().min(1),
  features: z.array(z.string()).min(1),
  contributions: z.object({ file: z.string().min(1), kind: z.literal('lightgbm-saabas') }).optional(),
  thresholds: z.looseObject({ review: z.number().min(0).max(1), block: z.number().min(0).max(1) }),
  windows: z.looseObject({ test: WINDOW }).optional(),
  /** The feature file the model was trained on (`train --search` writes it beside the model), by name in the model's folder and hash. */
  featuresFile: z.object({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).optional(),
});

export type ModelCard = z.infer<typeof MODEL_CARD>;

/** `models/mine.onnx` → `models/mine.card.json`. */
export function cardPathFor(modelPath: string): string {
  return join(dirname(modelPath), `${basename(modelPath, '.onnx')}.card.json`);
}

/** The model's bytes and its card, the card checked against the bytes. */
export function readModelFiles(modelPath: string): { bytes: Buffer; card: ModelCard } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(modelPath);
  } catch (err) {
    throw new ModelLoadError(`${modelPath}: cannot read the model: ${(err as Error).message}`);
  }
  return { bytes, card: readCardFor(modelPath, createHash('sha256').update(bytes).digest('hex')) };
}

/** The card beside a model, parsed and checked against the model's sha256. */
function readCardFor(modelPath: string, sha: string): ModelCard {
  const cardPath = cardPathFor(modelPath);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(cardPath, 'utf8'));
  } catch (err) {
    throw new ModelLoadError(`${cardPath}: cannot read the model card (fraud-detector train writes it beside the model): ${(err as Error).message}`);
  }
  const parsed = MODEL_CARD.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelLoadError(`${cardPath}: not a model card: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  if (sha !== parsed.data.sha256) throw new ModelLoadError(`${cardPath}: the card is for another file (its sha256 is ${parsed.data.sha256.slice(0, 12)}…, ${modelPath}'s is ${sha.slice(0, 12)}…)`, 'FD_MODEL_MISMATCH');
  return parsed.data;
}

/**
 * The feature file a model's card names (`train --search` models), checked against the hash
 * the card recorded; undefined when the card names none (the model is served with
 * FEATURES_FILE or the built-in set, and its features checked against them at load).
 */
export function trainedFeaturesFile(modelPath: string): string | undefined {
  const { card } = readModelFiles(modelPath);
  if (card.featuresFile === undefined) return undefined;
  const path = join(dirname(modelPath), card.featuresFile.file);
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (err) {
    throw new ModelLoadError(`${cardPathFor(modelPath)}: the model was trained on the features in ${path}, which cannot be read: ${(err as Error).message}`);
  }
  const sha = createHash('sha256').update(text).digest('hex');
  if (sha !== card.featuresFile.sha256) throw new ModelLoadError(`${path}: changed since the model was trained on it (sha256 ${sha.slice(0, 12)}…, the card's ${card.featuresFile.sha256.slice(0, 12)}…); train again, or restore the file`, 'FD_MODEL_MISMATCH');
  return path;
}

/** Refuses a model whose features are not exactly the feature set's, in order, saying how they differ. */
export function checkFeatures(card: ModelCard, names: readonly string[], where: string): void {
  const model = card.features;
  if (model.length === names.length && model.every((n, i) => n === names[i])) return;
  const missing = model.filter((n) => !names.includes(n));
  const extra = names.filter((n) => !model.includes(n));
  const parts = [`the model expects ${model.length} features, the feature set has ${names.length}`];
  if (missing.length > 0) parts.push(`not in the feature set: ${missing.join(', ')}`);
  if (extra.length > 0) parts.push(`not in the model: ${extra.join(', ')}`);
  const moved = model.findIndex((n, i) => n !== names[i]);
  if (missing.length === 0 && extra.length === 0 && moved >= 0) parts.push(`in another order from position ${moved + 1} (model: ${model[moved]}, feature set: ${names[moved]})`);
  throw new ModelLoadError(`${where}: ${parts.join('; ')}. Serve it with the FEATURES_FILE it was trained with, or train it again`, 'FD_MODEL_MISMATCH');
}
