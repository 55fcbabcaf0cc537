#!/usr/bin/env bash
# The test command, from a fresh machine: installs and builds, starts the real Redis and
# Kafka, lints and type-checks, then runs the unit, integration and e2e tests. Ends with
# the line `tests: N passed, N failed`.
#   scripts/test.sh [vitest filters...]     e.g. scripts/test.sh test/unit
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The services (Kafka jars from Maven Central, mostly network) come up while npm ci
# compiles the Kafka client (mostly CPU): on a fresh machine that saves about a minute.
"$root/scripts/install-system.sh"
mkdir -p "$root/.local"
# The secured Cluster (TLS only, a password) adds about 3 s; the tests read its settings
# from .local/redis-cluster-secure.env. The secured stack (--secure: Kafka on SASL_SSL with
# ACLs, Redis TLS-only with ACL users) adds a second broker JVM, about 15 s on a fresh machine
# while npm ci runs; test/e2e/secure-stack.test.ts reads .local/secure*.env.
"$root/scripts/services.sh" up --redis-cluster --redis-cluster-secure --secure >"$root/.local/services-up.log" 2>&1 &
services=$!
"$root/scripts/setup.sh"
"$root/scripts/training-venv.sh"
if ! wait "$services"; then cat "$root/.local/services-up.log" >&2; exit 1; fi
cat "$root/.local/services-up.log"
set -a; . "$root/.local/services.env"; set +a

echo "[test] lint and type-check"
npx eslint .
npx tsc -p tsconfig.json --noEmit
npx madge --circular --extensions ts src >/dev/null || { npx madge --circular --extensions ts src; exit 1; }

echo "[test] vitest (report: .local/vitest.json)"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.local/vitest.json "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(".local/vitest.json", "utf8"));
  // Tests that never finished (a crashed test process) count as failed.
  const failed = r.numTotalTests - r.numPassedTests - r.numPendingTests - r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${failed} failed`);
' || { echo "tests: 0 passed, 1 failed"; exit 1; }
exit "$status"
