#!/usr/bin/env bash
# The main job, from a fresh machine: installs and builds, starts Redis and Kafka, creates
# the topics, starts the detector and a simulator with injected fraud, and follows the
# alerts live. Ctrl-C stops the detector and the simulator cleanly; the services keep
# running until `scripts/services.sh down`.
#   DEMO_RATE   simulated transactions per second (default 300)
#   MODEL_PATH  the model the detector scores with (default: the shipped models/default.onnx)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
logs="$root/.local/logs"

# The services (Kafka jars from Maven Central, mostly network) come up while npm ci
# compiles the Kafka client (mostly CPU): on a fresh machine that saves about a minute.
"$root/scripts/install-system.sh"
mkdir -p "$root/.local"
"$root/scripts/services.sh" up >"$root/.local/services-up.log" 2>&1 &
services=$!
"$root/scripts/setup.sh"
if ! wait "$services"; then cat "$root/.local/services-up.log" >&2; exit 1; fi
cat "$root/.local/services-up.log"
set -a; . "$root/.local/services.env"; set +a
export HTTP_PORT="${HTTP_PORT:-9464}"
export MODEL_PATH="${MODEL_PATH:-$root/models/default.onnx}"

cli() { node "$root/dist/cli/main.js" "$@"; }
cli topics create

mkdir -p "$logs"
echo "[demo] starting the detector (log: $logs/worker.log, metrics: http://127.0.0.1:$HTTP_PORT/metrics)"
cli run >"$logs/worker.log" 2>&1 &
worker=$!
echo "[demo] starting the simulator at ${DEMO_RATE:-300} events/s (log: $logs/simulator.log)"
cli simulate --rate "${DEMO_RATE:-300}" --malformed-rate 0.001 >"$logs/simulator.log" 2>&1 &
simulator=$!

stop() {
  trap - INT TERM
  echo
  echo "[demo] stopping the simulator and the detector"
  kill -TERM "$simulator" 2>/dev/null || true
  wait "$simulator" 2>/dev/null || true
  kill -TERM "$worker" 2>/dev/null || true
  wait "$worker" 2>/dev/null || true
  echo "[demo] stopped. Redis and Kafka are still running; stop them with: scripts/services.sh down"
  exit 0
}
trap stop INT TERM

echo "[demo] alerts as they happen (Ctrl-C to stop):"
cli alerts tail --metrics-url "http://127.0.0.1:$HTTP_PORT/metrics" &
tail_pid=$!
wait "$tail_pid" || true
stop
