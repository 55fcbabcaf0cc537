#!/usr/bin/env bash
# The rate of `features rebuild`: simulated transactions decided by `run` on fresh topics, the
# detector's Redis keys deleted, then the rebuild; prints its closing line (events/s).
# Usage: bash bench/rebuild.sh [count]   (local services up: ./scripts/services.sh up; dist built)
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-100000}"
id="bench-rebuild-$RANDOM"
port=19555
export KAFKA_GROUP_ID="$id-group" TOPIC_TRANSACTIONS="$id-tx" TOPIC_ALERTS="$id-alerts" TOPIC_DECISIONS="$id-dec" \
  TOPIC_DLQ="$id-dlq" TOPIC_LABELS="$id-labels" REDIS_KEY_PREFIX="$id" LOG_LEVEL=warn HTTP_PORT="$port"
node dist/cli/main.js topics create >/dev/null
node dist/cli/main.js simulate --rate 4000 --count "$count" --accounts 20000 >/dev/null
node dist/cli/main.js run &
worker=$!
decided=0
for _ in $(seq 1 300); do
  sleep 2
  decided=$(curl -s "localhost:$port/metrics" | awk '/^fraud_detector_events_total/ {s += $2} END {print s + 0}')
  [ "$decided" -ge "$count" ] && break
done
kill -TERM "$worker"; wait "$worker" || true
echo "decided $decided by run; deleting the detector's keys"
redis-cli -p "${REDIS_PORT:-6379}" --scan --pattern "$id:*" | xargs -r -n 1000 redis-cli -p "${REDIS_PORT:-6379}" del >/dev/null
node dist/cli/main.js features rebuild --since 1h 2>&1 | grep -v '^  '
