// Allow and deny lists that rules reference as `lists.<name>`: one text file per list in the
// lists directory (`<name>.txt`, one value per line, `#` starts a comment), for accounts, cards,
// merchants, devices, IPs, card BINs or any other value a rule compares with an event field:
// `event.cardId in lists.blocked_cards`. Loaded with the rules and reloaded with them.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RuleCompileError } from '../contract/errors.js';

/** The lists of a rule set: each a Map (CEL's `in` looks a key up in a Map in constant time). */
export interface RuleLists {
  values: ReadonlyMap<string, ReadonlyMap<string, true>>;
  /** A digest of every list's name and content, part of the rule set's version. */
  digest: string;
}

const LIST_NAME = /^[a-z][a-z0-9_]*$/;
const MAX_VALUE_LENGTH = 256;

export const NO_LISTS: RuleLists = { values: new Map(), digest: '' };

/** Reads every `*.txt` in `dir`; a missing directory is no lists. Throws RuleCompileError with file and line. */
export function loadLists(dir: string): RuleLists {
  if (!existsSync(dir)) return NO_LISTS;
  if (!statSync(dir).isDirectory()) throw new RuleCompileError({ file: dir }, 'the lists directory is not a directory');
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  const hash = createHash('sha256');
  const values = new Map<string, ReadonlyMap<string, true>>();
  for (const name of files) {
    const file = join(dir, name);
    const list = name.slice(0, -'.txt'.length);
    if (!LIST_NAME.test(list)) throw new RuleCompileError({ file }, `list name "${list}": lower-case letters, digits and _, starting with a letter (it is used as lists.${list})`);
    const text = readFileSync(file, 'utf8');
    hash.update(name).update('\0').update(text).update('\0');
    values.set(list, parseList(file, text));
  }
  return { values, digest: files.length > 0 ? hash.digest('hex').slice(0, 12) : '' };
}

function parseList(file: string, text: string): Map<string, true> {
  const entries = new Map<string, true>();
  text.split('\n').forEach((raw, i) => {
    const value = raw.replace(/#.*$/, '').trim();
    if (value === '') return;
    if (value.length > MAX_VALUE_LENGTH) throw new RuleCompileError({ file, line: i + 1 }, `a value longer than ${MAX_VALUE_LENGTH} characters`);
    // The value itself stays out of the message: lists hold card numbers and IPs, and refusals are logged.
    if (/\s/.test(value)) throw new RuleCompileError({ file, line: i + 1 }, 'one value per line, with no spaces inside');
    entries.set(value, true);
  });
  return entries;
}
