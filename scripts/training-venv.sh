#!/usr/bin/env bash
# The Python environment `fraud-detector train` uses: a venv with training/requirements.txt,
# installed again only when that file changes (its sha256 is stamped in the venv, the same
# stamp the train command checks). Idempotent.
#   scripts/training-venv.sh [venv-dir]      default .local/training-venv
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${1:-$root/.local/training-venv}"
requirements="$root/training/requirements.txt"
digest="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$venv/.requirements.sha256" && "$(cat "$venv/.requirements.sha256")" == "$digest" ]]; then
  echo "[training-venv] up to date: $venv" >&2
  exit 0
fi
echo "[training-venv] installing $requirements into $venv (log: $venv.log)" >&2
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >"$venv.log" 2>&1 || { cat "$venv.log" >&2; exit 1; }
printf '%s' "$digest" >"$venv/.requirements.sha256"
echo "[training-venv] done" >&2
