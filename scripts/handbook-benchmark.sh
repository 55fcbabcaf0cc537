#!/usr/bin/env bash
# The handbook's benchmark, end to end with our commands (Le Borgne et al., "Reproducible Machine
# Learning for Credit Card Fraud Detection", chapters "Transaction data simulator" and "Model
# selection"): its simulated history; per fold, a model trained on a week, 7 days of label delay,
# tested on the week after (fold 1: trained on the week from 2018-07-25, tested on the week from
# 2018-08-08; each further fold 7 days later, as the handbook's 4 prequential test folds); AUC
# ROC, average precision and card precision@100 beside the handbook's published figures (the mean
# of its 4 test folds), over every transaction of each test week and over the handbook's test set
# (each day without the cards already known compromised), and their mean over the folds.
#   scripts/handbook-benchmark.sh [seed] [--folds 1-4] [--jobs N] [--venv dir] [--features file]... [--search] [--search-only]
# Each --features file is benchmarked (default: the built-in set and features/handbook.yaml);
# --search adds a model trained with `train --search` (features and parameters chosen by a fit
# on the week before the training week, scored on the training week, then fit on the training
# week: every label it uses is known by the test week), served with the feature file it writes
# beside the model (FEATURES_FILE unset); --search-only benchmarks that one alone. --folds 4 is
# the handbook's protocol (default 1: a quarter of the time); --jobs runs that many folds at once.
# Data, models, decisions and logs: .local/handbook-benchmark/seed-<seed>/ (HANDBOOK_DIR moves
# it); the generated history is kept there and not generated again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seed=0
venv="$root/.local/training-venv"
sets=()
search=0
search_only=0
folds=1
jobs=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --venv) venv="$2"; shift 2 ;;
    --features) sets+=("$2"); shift 2 ;;
    --search) search=1; shift ;;
    --search-only) search=1; search_only=1; shift ;;
    --folds) folds="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) [[ "$1" =~ ^[0-9]+$ ]] || { echo "handbook-benchmark: not a seed: $1" >&2; exit 2; }; seed="$1"; shift ;;
  esac
done
[[ "$folds" =~ ^[1-4]$ ]] || { echo "handbook-benchmark: --folds: 1 to 4, not $folds" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9]$ ]] || { echo "handbook-benchmark: --jobs: 1 to 9, not $jobs" >&2; exit 2; }
[[ ${#sets[@]} -gt 0 || $search_only -eq 1 ]] || sets=(default features/handbook.yaml)
[[ $search -eq 0 ]] || sets+=(--search)

work="${HANDBOOK_DIR:-$root/.local/handbook-benchmark}/seed-$seed"
mkdir -p "$work/no-rules"
log="$work/benchmark.log"
: >"$log"
echo "[handbook] seed $seed, $folds fold(s); data, models and logs in $work (log: $log)"
[[ -f dist/cli/main.js ]] || { echo "[handbook] building dist/"; npm run --silent build; }

# The folds' periods (src/models/handbook-folds.ts; delta_train = delta_delay = delta_test = 7
# days) and the history they need: from 37 days before the first fitted week (a 30-day window
# and 7 days of label delay) to the last test week's end, with the labels known a week later.
plan="$(npx tsx bench/handbook-folds.ts --folds "$folds")"
read -r _ HISTORY_FROM HISTORY_UNTIL LABELS_UNTIL <<<"$(grep '^history ' <<<"$plan")"

if [[ ! -s "$work/all-labels.jsonl" ]]; then
  echo "[handbook] simulating 183 days from 2018-04-01 (5,000 customers, 10,000 terminals)"
  nice -n 10 node dist/cli/main.js simulate --handbook --seed "$seed" --out "$work/all-tx.jsonl" --labels-out "$work/all-labels.jsonl.part" 2>&1 | tee -a "$log"
  mv "$work/all-labels.jsonl.part" "$work/all-labels.jsonl"
fi

# Lines whose "timestamp" (ISO, UTC, with milliseconds: compared as text) is in [from, until).
between() {
  awk -v from="$2" -v until="$3" 'match($0, /"timestamp":"[^"]*"/) { t = substr($0, RSTART + 13, RLENGTH - 14); if (t >= from && t < until) print }' "$1"
}
# Written again only when the folds' span changes, so the history's files (and with them the
# candidates' export that train --search keeps in $work/export-cache) stay the same.
span="$HISTORY_FROM $HISTORY_UNTIL $LABELS_UNTIL"
if [[ "$(cat "$work/history.span" 2>/dev/null)" != "$span" || ! -s "$work/tx.jsonl" ]]; then
  between "$work/all-tx.jsonl" "$HISTORY_FROM" "$HISTORY_UNTIL" >"$work/tx.jsonl"
  between "$work/all-labels.jsonl" "$HISTORY_FROM" "$LABELS_UNTIL" >"$work/labels.jsonl"
  echo "$span" >"$work/history.span"
fi
echo "[handbook] $(wc -l <"$work/tx.jsonl") transactions from $HISTORY_FROM until $HISTORY_UNTIL and $(wc -l <"$work/labels.jsonl") labels known by $LABELS_UNTIL"

# One set on one fold: train, replay up to the end of the test week, the metrics from the
# decisions (bench/handbook-metrics.ts: every test transaction, and the handbook's test set).
run_fold() {
  local set="$1" fold="$2" search_from="$3" train_from="$4" train_until="$5" test_from="$6" test_until="$7" replay_from="$8"
  # No rules: the handbook measures the model alone (and the shipped rules read features that
  # other sets lack); RULES_DIR is what replay decides with. A searched model (no FEATURES_FILE)
  # is served with the feature file its card names, written beside it by train --search.
  local features=(-u FEATURES_FILE RULES_DIR="$work/no-rules") name periods
  case "$set" in
    default) name=default ;;
    --search) name=search ;;
    *) name="$(basename -- "$set" .yaml)"; features=(FEATURES_FILE="$root/$set" RULES_DIR="$work/no-rules") ;;
  esac
  if [[ "$set" == --search ]]; then
    # Chosen by a fit on the week before the training week scored on the training week, then
    # fit on the training week (--refit); the export is shared by the folds (point in time).
    periods=(--search --refit --export-cache "$work/export-cache" --train-from "$search_from" --train-until "$train_until")
  else
    # Fit on the training week; the delay week (validation) only sets the alert thresholds.
    periods=(--train-from "$train_from" --train-until "$test_from")
  fi
  local out="$work/fold-$fold/$name" flog="$work/fold-$fold/$name.log"
  mkdir -p "$out"
  echo "[handbook] fold $fold, $name: train ${periods[*]} (log: $flog)"
  env "${features[@]}" nice -n 10 node dist/cli/main.js train "${periods[@]}" --validation-days 7 \
    --transactions "$work/tx.jsonl" --labels "$work/labels.jsonl" \
    --test-from "$test_from" --test-until "$test_until" \
    --rules "$work/no-rules" --out "$out/model.onnx" --venv "$venv" >"$flog" 2>&1
  echo "[handbook] fold $fold, $name: replay from $replay_from to $test_until"
  between "$work/tx.jsonl" "$replay_from" "$test_until" >"$out/replay-tx.jsonl"
  env "${features[@]}" nice -n 10 node dist/cli/main.js replay \
    --transactions "$out/replay-tx.jsonl" --labels "$work/labels.jsonl" \
    --model "$out/model.onnx" --rules "$work/no-rules" --out "$out/decisions.jsonl" >>"$flog" 2>&1
  nice -n 10 npx tsx bench/handbook-metrics.ts --decisions "$out/decisions.jsonl" --labels "$work/labels.jsonl" \
    --train-from "$train_from" --test-from "$test_from" --test-until "$test_until" >"$out/handbook-metrics.json" 2>>"$flog"
  rm -f "$out/replay-tx.jsonl"
  echo "[handbook] fold $fold, $name: done ($(cat "$out/handbook-metrics.json"))"
}

names=()
for set in "${sets[@]}"; do
  case "$set" in
    default) names+=(default) ;;
    --search) names+=(search) ;;
    *) [[ -f "$root/$set" ]] || { echo "handbook-benchmark: no such feature file: $set" >&2; exit 2; }; names+=("$(basename -- "$set" .yaml)") ;;
  esac
  # The first fold alone (with --search, it writes the export the others read), then the others
  # up to --jobs at once.
  first=1
  while read -r _ fold rest; do
    if [[ $first -eq 1 ]]; then run_fold "$set" "$fold" $rest; first=0; continue; fi
    while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do wait -n || exit 1; done
    run_fold "$set" "$fold" $rest &
  done < <(grep '^fold ' <<<"$plan")
  while [[ $(jobs -rp | wc -l) -gt 0 ]]; do wait -n || exit 1; done
done

npx tsx bench/handbook-summary.ts --seed "$seed" --work "$work" --folds "$folds" "${names[@]}" | tee -a "$log"
