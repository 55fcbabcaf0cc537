#!/usr/bin/env bash
# Installs everything the detector needs on a fresh Debian machine and builds it:
# Debian packages, npm dependencies (native Kafka client built against Debian's
# libraries), then the TypeScript build. Idempotent: a second run only rebuilds.
#   scripts/setup.sh [--build]   --build: only the packages building needs (the Dockerfile)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

"$root/scripts/install-system.sh" "$@"

# The Kafka client links Debian's librdkafka dependencies instead of downloading sources;
# onnxruntime-node ships its CPU binaries in the npm package, so its downloader is skipped.
export CKJS_LINKING=dynamic ONNXRUNTIME_NODE_INSTALL=skip
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f node_modules/.fd-lock-hash ] && [ "$(cat node_modules/.fd-lock-hash)" = "$lock_hash" ]; then
  echo "[setup] npm dependencies up to date"
else
  echo "[setup] npm ci (builds the Kafka client's librdkafka; about 3 minutes the first time; log: .local/npm-ci.log)"
  mkdir -p .local
  if ! npm ci --no-audit --no-fund >.local/npm-ci.log 2>&1; then
    tail -30 .local/npm-ci.log >&2
    echo "[setup] npm ci failed; full log in .local/npm-ci.log" >&2
    exit 1
  fi
  echo "$lock_hash" >node_modules/.fd-lock-hash
fi

echo "[setup] building (tsc)"
npm run --silent build
echo "[setup] ready: node dist/cli/main.js --help"
