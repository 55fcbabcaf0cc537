#!/usr/bin/env bash
# Issues TLS material for the local services from a local CA, with openssl: the CA on first
# use, then a certificate for a name with its subject alternative names, usable both as a
# server and as a client certificate (Redis uses its server certificate on the cluster bus).
#
#   scripts/local-ca.sh <dir> <name> <subjectAltName>
#   e.g. scripts/local-ca.sh .local/tls redis-server "DNS:localhost,IP:127.0.0.1"
#
# Writes <dir>/ca.crt and ca.key (once), <dir>/<name>.crt and <name>.key. Idempotent: a
# certificate that still verifies against the CA, carries the same names and is valid for
# another day is left alone. Keys are EC P-256 (fast to make, CI makes them on every fresh
# machine), readable by their owner only. For local development and tests, never production.
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: $0 <dir> <name> <subjectAltName>" >&2; exit 2; }
dir=$1 name=$2 san=$3
log() { echo "[local-ca] $*"; }
command -v openssl >/dev/null || { echo "[local-ca] error: openssl not installed; run scripts/install-system.sh" >&2; exit 1; }

mkdir -p "$dir"
chmod 700 "$dir"
umask 077

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [ ! -s "$dir/ca.crt" ] || [ ! -s "$dir/ca.key" ] || ! openssl x509 -checkend 86400 -noout -in "$dir/ca.crt" >/dev/null; then
  log "creating a local CA in $dir/ca.crt"
  new_key "$dir/ca.key"
  openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 -subj "/CN=fraud-detector local CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.crt" 2>/dev/null
fi

# The names a certificate was issued for, kept beside it: a changed list issues it again.
current() {
  [ -s "$dir/$name.crt" ] && [ -s "$dir/$name.key" ] && [ "$(cat "$dir/$name.issued" 2>/dev/null)" = "$san" ] \
    && openssl verify -CAfile "$dir/ca.crt" "$dir/$name.crt" >/dev/null 2>&1 \
    && openssl x509 -checkend 86400 -noout -in "$dir/$name.crt" >/dev/null
}

if current; then
  log "$dir/$name.crt is current ($san)"
  exit 0
fi
log "issuing $dir/$name.crt for $san"
new_key "$dir/$name.key"
extensions=$(mktemp)
trap 'rm -f "$extensions" "$dir/$name.csr"' EXIT
printf '%s\n' "subjectAltName=$san" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth,clientAuth" >"$extensions"
openssl req -new -key "$dir/$name.key" -subj "/CN=$name" -out "$dir/$name.csr" 2>/dev/null
openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
  -days 825 -sha256 -extfile "$extensions" -out "$dir/$name.crt" 2>/dev/null
echo "$san" >"$dir/$name.issued"
