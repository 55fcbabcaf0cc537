// One pass over a JSON text, before it is parsed: how deep it nests, and whether an object
// repeats a key. JSON.parse builds any depth (a value 5,000 deep then overflows the stack of
// whatever walks it: JSON.stringify, a validator) and keeps the last of two equal keys where
// other parsers keep the first, so both are refused before anything is built from them.

export interface JsonStructure {
  /** Brackets nest deeper than the limit: the scan stopped there. */
  tooDeep: boolean;
  /** The first key an object holds twice (compared as decoded), else null; always null when keys are only counted. */
  duplicateKey: string | null;
  /** Keys written in the text, every object's together (duplicates included). */
  keys: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * Counts brackets outside strings. For valid JSON this is exact; for invalid JSON it may be
 * wrong, and JSON.parse refuses the text anyway. Keys are tracked per open object only until
 * the first duplicate is found; with `findDuplicates` false they are only counted (no key is
 * decoded or held): parsed, the text holds that many keys exactly when no object repeats one
 * (see parsedKeys).
 */
export function scanStructure(text: string, maxDepth: number, findDuplicates = true): JsonStructure {
  const isObject: boolean[] = [];
  const keys: (Set<string> | undefined)[] = [];
  let depth = 0;
  let expectKey = false;
  let duplicateKey: string | null = null;
  let keyCount = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i + 1);
      if (expectKey) {
        keyCount++;
        if (findDuplicates && duplicateKey === null) duplicateKey = noteKey(keys, depth - 1, text, i + 1, end);
      }
      expectKey = false;
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > maxDepth) return { tooDeep: true, duplicateKey, keys: keyCount };
      isObject[depth - 1] = c === OPEN_OBJECT;
      keys[depth - 1] = undefined;
      expectKey = c === OPEN_OBJECT;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth > 0) depth--;
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = depth > 0 && isObject[depth - 1] === true;
    } else if (c === COLON) {
      expectKey = false;
    }
  }
  return { tooDeep: false, duplicateKey, keys: keyCount };
}

/**
 * The own keys of every object in a parsed JSON value. JSON.parse keeps one property per
 * distinct key of an object, so this equals the text's key count (scanStructure) exactly when
 * no object of the text repeats a key.
 */
export function parsedKeys(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value) count += parsedKeys(item);
    return count;
  }
  for (const key of Object.keys(value)) count += 1 + parsedKeys((value as Record<string, unknown>)[key]);
  return count;
}

/** The index of the quote that closes the string starting at `from` (text.length if none). */
function stringEnd(text: string, from: number): number {
  let j = from;
  while (j < text.length) {
    const d = text.charCodeAt(j);
    if (d === QUOTE) return j;
    j += d === BACKSLASH ? 2 : 1;
  }
  return text.length;
}

/** Adds the key to its object's set; returns it when the object already had it. */
function noteKey(keys: (Set<string> | undefined)[], level: number, text: string, start: number, end: number): string | null {
  if (level < 0) return null;
  const key = decodeKey(text.slice(start, end));
  const seen = (keys[level] ??= new Set<string>());
  if (seen.has(key)) return key;
  seen.add(key);
  return null;
}

/** A key as its object holds it: `"a"` and `"\u0061"` are the same key. */
function decodeKey(raw: string): string {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw; // not a valid string: JSON.parse refuses the whole text anyway
  }
}
