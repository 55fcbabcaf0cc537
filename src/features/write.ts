// Writes feature definitions as a feature file load.ts reads back to the same set (the file
// `train --search` writes beside the model it trained on them).
import type { FeatureInput } from './definitions.js';

/** The file's text: a comment (each line prefixed with `# `), then `version` and one feature a line. */
export function featureFileText(inputs: readonly FeatureInput[], comment: readonly string[] = []): string {
  const lines = inputs.map((input) => {
    const keys = Object.entries(input).filter((e): e is [string, string | number] => e[1] !== undefined);
    return `  - { ${keys.map(([key, value]) => `${key}: ${scalar(value)}`).join(', ')} }`;
  });
  return [...comment.map((line) => `# ${line}`.trimEnd()), 'version: 1', 'features:', ...lines, ''].join('\n');
}

/** Plain when it is a number or a word; otherwise double-quoted (JSON's quoting is YAML's). */
function scalar(value: string | number): string {
  return typeof value === 'number' || /^[A-Za-z0-9_]+$/.test(value) ? String(value) : JSON.stringify(value);
}
