#!/usr/bin/env bash
# The handbook's benchmark, end to end with our commands (Le Borgne et al., "Reproducible Machine
# Learning for Credit Card Fraud Detection", chapters "Transaction data simulator" and "Model
# selection"): its simulated history, a model trained on the week from 2018-07-25, 7 days of
# label delay, tested on the week from 2018-08-08; AUC ROC, average precision and card
# precision@100 beside the handbook's published figures, over every transaction of the test week
# and over the handbook's test set (each day without the cards already known compromised).
#   scripts/handbook-benchmark.sh [seed] [--venv dir] [--features file]... [--search]
# Each --features file is benchmarked (default: the built-in set and features/handbook.yaml);
# --search adds a model trained with `train --search` (features and parameters chosen on the
# validation week), served with the feature file it writes beside the model (FEATURES_FILE unset).
# Data, models, decisions and logs: .local/handbook-benchmark/seed-<seed>/ (HANDBOOK_DIR moves
# it); the generated history is kept there and not generated again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seed=0
venv="$root/.local/training-venv"
sets=()
search=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --venv) venv="$2"; shift 2 ;;
    --features) sets+=("$2"); shift 2 ;;
    --search) search=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) [[ "$1" =~ ^[0-9]+$ ]] || { echo "handbook-benchmark: not a seed: $1" >&2; exit 2; }; seed="$1"; shift ;;
  esac
done
[[ ${#sets[@]} -gt 0 ]] || sets=(default features/handbook.yaml)
[[ $search -eq 0 ]] || sets+=(--search)

# The handbook's protocol (delta_train = delta_delay = delta_test = 7 days).
TRAIN_FROM=2018-07-25T00:00:00Z
TEST_FROM=2018-08-08T00:00:00Z   # after the training week and the 7-day delay week
TEST_UNTIL=2018-08-15T00:00:00Z
# History kept: enough for every window before the training week (30 days, plus 7 of label
# delay for the terminals' risk) and the test week's labels (known up to 7 days after it).
HISTORY_FROM=2018-06-11T00:00:00Z
REPLAY_FROM=2018-07-01T00:00:00Z  # 38 days before the test week: every window full
LABELS_UNTIL=2018-08-22T00:00:00Z

work="${HANDBOOK_DIR:-$root/.local/handbook-benchmark}/seed-$seed"
mkdir -p "$work/no-rules"
log="$work/benchmark.log"
: >"$log"
echo "[handbook] seed $seed; data, models and logs in $work (log: $log)"
[[ -f dist/cli/main.js ]] || { echo "[handbook] building dist/"; npm run --silent build; }
cli() { nice -n 10 node dist/cli/main.js "$@"; }

if [[ ! -s "$work/all-labels.jsonl" ]]; then
  echo "[handbook] simulating 183 days from 2018-04-01 (5,000 customers, 10,000 terminals)"
  cli simulate --handbook --seed "$seed" --out "$work/all-tx.jsonl" --labels-out "$work/all-labels.jsonl.part" 2>&1 | tee -a "$log"
  mv "$work/all-labels.jsonl.part" "$work/all-labels.jsonl"
fi

# Lines whose "timestamp" (ISO, UTC: compared as text) is in [from, until).
between() {
  awk -v from="$2" -v until="$3" 'match($0, /"timestamp":"[^"]*"/) { t = substr($0, RSTART + 13, RLENGTH - 14); if (t >= from && t < until) print }' "$1"
}
between "$work/all-tx.jsonl" "$HISTORY_FROM" "$TEST_UNTIL" >"$work/tx.jsonl"
between "$work/all-tx.jsonl" "$REPLAY_FROM" "$TEST_UNTIL" >"$work/replay-tx.jsonl"
between "$work/all-labels.jsonl" "$HISTORY_FROM" "$LABELS_UNTIL" >"$work/labels.jsonl"
echo "[handbook] kept $(wc -l <"$work/tx.jsonl") transactions from $HISTORY_FROM and $(wc -l <"$work/labels.jsonl") labels known by $LABELS_UNTIL"

results=()
for set in "${sets[@]}"; do
  # No rules: the handbook measures the model alone (and the shipped rules read features that
  # other sets lack); RULES_DIR is what replay decides with. A searched model (no FEATURES_FILE)
  # is served with the feature file its card names, written beside it by train --search.
  features=(-u FEATURES_FILE RULES_DIR="$work/no-rules")
  search_flags=()
  case "$set" in
    default) name=default ;;
    --search) name=search; search_flags=(--search) ;;
    *) name="$(basename -- "$set" .yaml)"
       [[ -f "$root/$set" ]] || { echo "handbook-benchmark: no such feature file: $set" >&2; exit 2; }
       features=(FEATURES_FILE="$root/$set" RULES_DIR="$work/no-rules") ;;
  esac
  out="$work/$name"
  mkdir -p "$out"
  # The model fits the training week alone (its labels are all known by the test week's start);
  # train's validation period, which only sets the alert thresholds, is the delay week (with
  # --search, the week the features and parameters are chosen on as well).
  echo "[handbook] $name: train${search_flags[*]:+ ${search_flags[*]}} (fit on $TRAIN_FROM + 7 days)"
  env "${features[@]}" nice -n 10 node dist/cli/main.js train "${search_flags[@]}" \
    --transactions "$work/tx.jsonl" --labels "$work/labels.jsonl" \
    --train-from "$TRAIN_FROM" --train-until "$TEST_FROM" --validation-days 7 \
    --test-from "$TEST_FROM" --test-until "$TEST_UNTIL" \
    --rules "$work/no-rules" --out "$out/model.onnx" --venv "$venv" >>"$log" 2>&1
  echo "[handbook] $name: replay (decisions from $REPLAY_FROM, the test week's among them)"
  env "${features[@]}" nice -n 10 node dist/cli/main.js replay \
    --transactions "$work/replay-tx.jsonl" --labels "$work/labels.jsonl" \
    --model "$out/model.onnx" --rules "$work/no-rules" --out "$out/decisions.jsonl" >>"$log" 2>&1
  nice -n 10 npx tsx bench/handbook-metrics.ts --decisions "$out/decisions.jsonl" --labels "$work/labels.jsonl" \
    --train-from "$TRAIN_FROM" --test-from "$TEST_FROM" --test-until "$TEST_UNTIL" >"$out/handbook-metrics.json" 2>>"$log"
  echo "[handbook] $name: evaluate (the test week)"
  env "${features[@]}" nice -n 10 node dist/cli/main.js evaluate \
    --transactions "$work/tx.jsonl" --labels "$work/labels.jsonl" \
    --model "$out/model.onnx" --rules "$work/no-rules" --from "$TEST_FROM" --until "$TEST_UNTIL" --json >"$out/evaluation.json" 2>>"$log"
  results+=("$name" "$out")
done

# Ours beside the handbook's published test performances (chapter "Model selection", after a
# grid search; the mean of 4 prequential test weeks from 2018-08-08: ours is the first of them).
node --input-type=module - "$seed" "$TEST_FROM" "$TEST_UNTIL" "${results[@]}" <<'EOF'
import { readFileSync } from 'node:fs';
const [seed, from, until, ...pairs] = process.argv.slice(2);
const fmt = (x) => (x === null || x === undefined ? '-' : x.toFixed(3));
const row = (label, m) => `${label.padEnd(58)}${fmt(m.aucRoc).padStart(8)}${fmt(m.averagePrecision).padStart(8)}${fmt(m.cardPrecisionAt100).padStart(8)}`;
const size = (m) => ` (${m.transactions} transactions, ${m.frauds} fraud)`;
console.log(`\nhandbook benchmark, seed ${seed}: trained on 2018-07-25 + 7 days, tested ${from} → ${until}`);
console.log(`${''.padEnd(58)}${'AUC ROC'.padStart(8)}${'AP'.padStart(8)}${'CP@100'.padStart(8)}`);
for (let i = 0; i < pairs.length; i += 2) {
  const [name, out] = [pairs[i], pairs[i + 1]];
  const all = JSON.parse(readFileSync(`${out}/evaluation.json`, 'utf8'));
  const hb = JSON.parse(readFileSync(`${out}/handbook-metrics.json`, 'utf8')).handbookTestSet;
  const label = name === 'search' ? 'train --search' : `${name} features`;
  console.log(row(`ours, ${label}, every test transaction`, all.model) + size(all));
  console.log(row(`ours, ${label}, the handbook's test set`, hb) + size(hb));
}
const published = (aucRoc, averagePrecision, cardPrecisionAt100) => ({ aucRoc, averagePrecision, cardPrecisionAt100 });
console.log(row('handbook, XGBoost (grid search), its test set', published(0.869, 0.687, 0.303)));
console.log(row('handbook, random forest (grid search), its test set', published(0.870, 0.678, 0.299)));
// What train --search chose, from its model's card.
for (let i = 0; i < pairs.length; i += 2) {
  if (pairs[i] !== 'search') continue;
  const card = JSON.parse(readFileSync(`${pairs[i + 1]}/model.card.json`, 'utf8'));
  const { selection, params } = card.search;
  const p = params.chosen ?? {};
  const chosen = params.chosen === null ? 'default parameters' : `${p.num_leaves} leaves, learning rate ${p.learning_rate}, ${p.min_child_samples} per leaf, ${p.n_estimators} trees (validation AP ${fmt(p.validationAveragePrecision)})`;
  console.log(`\ntrain --search: ${card.features.length} of ${card.search.candidates.length} features (pruning rounds ${selection.steps.map((s) => s.features).join(' → ')}, the chosen round's validation AP ${fmt(selection.chosen.validationAveragePrecision)}); ${chosen}; the model's validation AP ${fmt(card.search.validationAveragePrecision)}; feature file ${pairs[i + 1]}/${card.featuresFile.file}`);
}
EOF
