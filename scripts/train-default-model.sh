#!/usr/bin/env bash
# Reproduces the shipped model from simulator data, with one command:
#   scripts/train-default-model.sh [out-dir]      models/default.onnx, .card.json, .trees.json
#   scripts/train-default-model.sh --fixture      test/fixtures/models/alt.* (a small second model the tests swap in)
#   scripts/train-default-model.sh --search [out-dir]   the same data through train --search → out-dir/searched.* (default /tmp/fd-searched)
# The data: 42 days of 2,000 simulated customers (seed 42); training until 2026-01-29,
# thresholds on its last week, tested on 2026-02-05 onwards. Python comes from
# training/requirements.txt, installed into .local/training-venv on first use.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# The test suite runs this with FD_SKIP_SETUP=1: it has built dist/ already, and other tests run from it.
[[ "${FD_SKIP_SETUP:-}" == 1 ]] || "$root/scripts/setup.sh"
"$root/scripts/training-venv.sh"
data="$root/.local/training-data"
mkdir -p "$data"
if [[ ! -s "$data/tx.jsonl" || ! -s "$data/labels.jsonl" ]]; then
  echo "[train-default] simulating 420,000 transactions → $data"
  node dist/cli/main.js simulate --seed 42 --accounts 2000 --count 420000 --start 2026-01-01T00:00:00Z --out "$data/tx.jsonl" --labels-out "$data/labels.jsonl"
fi
if [[ "${1:-}" == "--fixture" ]]; then
  mkdir -p test/fixtures/models
  node dist/cli/main.js train --transactions "$data/tx.jsonl" --labels "$data/labels.jsonl" --train-until 2026-01-29 --seed 8 --trees 40 --out test/fixtures/models/alt.onnx --venv "$root/.local/training-venv"
elif [[ "${1:-}" == "--search" ]]; then
  out="${2:-/tmp/fd-searched}"
  mkdir -p "$out"
  echo "[train-default] train --search → $out/searched.onnx, .card.json, .trees.json, .features.yaml"
  node dist/cli/main.js train --search --transactions "$data/tx.jsonl" --labels "$data/labels.jsonl" --train-until 2026-01-29 --out "$out/searched.onnx" --venv "$root/.local/training-venv"
else
  out="${1:-models}"
  mkdir -p "$out"
  node dist/cli/main.js train --transactions "$data/tx.jsonl" --labels "$data/labels.jsonl" --train-until 2026-01-29 --out "$out/default.onnx" --venv "$root/.local/training-venv"
fi
