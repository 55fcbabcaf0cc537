// Rule evaluation cost: 50 CEL rules of the form analysts write, compiled once, evaluated
// per event through the same RuleSet the worker uses; then the same with every fifth rule
// also looking the card up in a 100,000-entry deny list. Prints µs per event.
// Usage: npx tsx bench/rules.ts [--rules 50] [--events 200000]
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_FEATURE_SET } from '../src/features/definitions.js';
import { loadRuleSet } from '../src/rules/load.js';
import type { RuleInput } from '../src/rules/rule.js';

const { values } = parseArgs({ options: { rules: { type: 'string', default: '50' }, events: { type: 'string', default: '200000' } } });
const RULES = Number(values.rules);
const EVENTS = Number(values.events);

const dir = mkdtempSync(join(tmpdir(), 'fd-bench-rules-'));
const lines = ['rules:'];
for (let i = 0; i < RULES; i++) {
  lines.push(`  - id: r${i}`, `    action: ${i % 5 === 0 ? 'block' : 'review'}`, `    reason: "amount {{event.amount}}"`);
  lines.push(`    expression: event.amount > ${1000 + i * 10}.0 && features.account.count_1h >= ${3 + (i % 4)}.0 && event.country != 'X${i % 10}'`);
}
writeFileSync(join(dir, 'bench.yaml'), lines.join('\n') + '\n');
const set = loadRuleSet(dir, DEFAULT_FEATURE_SET);

const listed = mkdtempSync(join(tmpdir(), 'fd-bench-lists-'));
mkdirSync(join(listed, 'lists'));
writeFileSync(join(listed, 'lists', 'deny_cards.txt'), Array.from({ length: 100_000 }, (_, i) => `card-${i * 7}`).join('\n') + '\n');
writeFileSync(join(listed, 'bench.yaml'), lines.map((l) => (/expression: /.test(l) && Number(/> (\d+)/.exec(l)?.[1]) % 50 === 0 ? l.replace('expression: ', 'expression: (has(event.cardId) && event.cardId in lists.deny_cards) || ') : l)).join('\n') + '\n');
const withLists = loadRuleSet(listed, DEFAULT_FEATURE_SET);

const countries = ['FR', 'DE', 'NL', 'ES', 'X1'];
const inputsWith = (amount: (i: number) => number): RuleInput[] =>
  Array.from({ length: 1000 }, (_, i) => ({
    event: { transactionId: `t${i}`, accountId: `a${i % 97}`, cardId: `card-${i * 13}`, amount: amount(i), currency: 'EUR', country: countries[i % countries.length] },
    features: { account: { count_1h: i % 8, amount_ratio_30d: 1 }, event: { amount: amount(i) } },
    score: (i % 100) / 100,
  }));

function measure(label: string, inputs: RuleInput[], rules = set): void {
  let hits = 0;
  for (let i = 0; i < 20_000; i++) hits += rules.evaluate(inputs[i % inputs.length] as RuleInput).hits.length; // warm-up
  hits = 0;
  const t0 = performance.now();
  for (let i = 0; i < EVENTS; i++) hits += rules.evaluate(inputs[i % inputs.length] as RuleInput).hits.length;
  const micros = ((performance.now() - t0) * 1000) / EVENTS;
  console.log(`${rules.rules.length} rules, ${label}: ${micros.toFixed(2)} µs per event, ${(hits / EVENTS).toFixed(2)} hits per event`);
}

measure('everyday amounts (5–205), no hits', inputsWith((i) => 5 + (i % 200)));
measure('amounts up to 2,000, many hits (reasons filled in for each)', inputsWith((i) => (i * 37) % 2000));
measure('everyday amounts, 10 of them also looking the card up in a 100,000-entry list', inputsWith((i) => 5 + (i % 200)), withLists);
