#!/usr/bin/env bash
# The fault suite (issue 15): starts its own services (a 3-broker KRaft cluster and a Redis
# with AOF, beside the regular ones: scripts/services.sh up --faults), then runs the scenarios
# against `node dist/cli/main.js run` workers and prints one table; exit 1 when a must-be-0
# column is not 0.
#
#   scripts/faults.sh [--profile short|full] [--scenario NAME[,NAME]] [--json FILE] [--keep] [--seed N]
#                     [--guarantee at-least-once|exactly-once]
#                     [--deadline SECONDS] [--no-build] [--down]
#
#   --profile   full (default): 10 kills, a minute of storm, 5 + 5 bounces, a 30 s outage, a
#               Redis restart, then all together; short: every scenario briefly (CI)
#   --scenario  worker-kill, rebalance-storm, leader-bounce, controller-bounce, broker-outage,
#               redis-restart, all
#   --json      also write the report there (it is always in .local/faults/runs/<id>/report.json)
#   --deadline  stop the scenarios still running after SECONDS, report them as not run to their
#               verdict (with their last steps), and write the report all the same
#   --keep      keep each scenario's topics and Redis keys (deleted once verified by default)
#   --no-build  do not rebuild dist/ even when src/ is newer
#   --down      stop the fault suite's services afterwards (they stay up for the next run otherwise)
#
# Needs what scripts/setup.sh installs (npm dependencies, dist/). Logs: .local/faults/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
local_dir="${FD_LOCAL_DIR:-$root/.local}"

build=1 down=0 args=()
while [ $# -gt 0 ]; do
  case $1 in
    --no-build) build=0 ;;
    --down) down=1 ;;
    --profile|--scenario|--json|--seed|--guarantee|--deadline) [ $# -ge 2 ] || { echo "[faults] $1 needs a value" >&2; exit 2; }; args+=("$1" "$2"); shift ;;
    --profile=*|--scenario=*|--json=*|--seed=*|--guarantee=*|--deadline=*|--keep) args+=("$1") ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "[faults] unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

[ -d node_modules ] || { echo "[faults] no node_modules: run scripts/setup.sh first" >&2; exit 1; }
# Rebuild only when needed: other processes (the regular test suite) may be running dist/.
if [ $build -eq 1 ] && { [ ! -f dist/cli/main.js ] || [ -n "$(find src -newer dist/cli/main.js -name '*.ts' -print -quit)" ]; }; then
  echo "[faults] building dist/ (tsc)"
  npm run --silent build
fi

mkdir -p "$local_dir/faults"
echo "[faults] starting the fault suite's services (log: $local_dir/faults/services-up.log)"
if ! "$root/scripts/services.sh" up --faults >"$local_dir/faults/services-up.log" 2>&1; then
  cat "$local_dir/faults/services-up.log" >&2
  exit 1
fi

status=0
node --import tsx "$root/test/faults/main.ts" "${args[@]}" || status=$?

if [ $down -eq 1 ]; then "$root/scripts/services.sh" down --faults; fi
exit "$status"
