#!/usr/bin/env bash
# Installs the Debian packages the detector needs: Redis, openssl (the local CA), the -dev libraries that
# librdkafka links against, Java/Maven for the Kafka broker, Prometheus.
# Idempotent: packages already present are skipped without touching apt.
#   scripts/install-system.sh            everything, for development and the tests
#   scripts/install-system.sh --build    only what building the detector needs (the Dockerfile's build stage)
#   scripts/install-system.sh --runtime  only the libraries the built detector loads (its runtime stage)
set -euo pipefail

build=(libssl-dev libsasl2-dev libzstd-dev liblz4-dev zlib1g-dev libcurl4-openssl-dev build-essential python3 make g++)
runtime=(libssl3 libsasl2-2 libzstd1 liblz4-1 zlib1g libcurl4 ca-certificates)
case "${1:-}" in
  --build) packages=("${build[@]}") ;;
  --runtime) packages=("${runtime[@]}") ;;
  "") packages=(redis-server openssl "${build[@]}" openjdk-17-jre-headless maven prometheus) ;;
  *) echo "[install-system] unknown option: $1 (expected --build or --runtime)" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "[install-system] all Debian packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "[install-system] installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts redis-server and prometheus as system services on install; the
# project runs its own instances on its own ports, so those are not needed.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now redis-server prometheus prometheus-node-exporter >/dev/null 2>&1 || true
fi
echo "[install-system] done"
