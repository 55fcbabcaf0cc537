#!/usr/bin/env bash
# Starts, stops and reports the local Redis and Apache Kafka (KRaft) the detector runs against.
#
#   scripts/services.sh up       [--kafka-nodes=1|3] [--redis-cluster]
#   scripts/services.sh down     [--purge]
#   scripts/services.sh status
#
# Idempotent: `up` leaves running services alone and only starts what is missing.
# Everything lives under $FD_LOCAL_DIR (default .local/): jars, data and logs.
# Ports: REDIS_PORT (6379), KAFKA_PORT (9092; a 3-node cluster uses 9092-9094),
# KAFKA_CONTROLLER_PORT (19093, +1 per node), REDIS_CLUSTER_PORT (7000, 3 masters 7000-7002).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
local_dir="${FD_LOCAL_DIR:-$root/.local}"
redis_port="${REDIS_PORT:-6379}"
kafka_port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-19093}"
redis_cluster_port="${REDIS_CLUSTER_PORT:-7000}"
kafka_heap="${KAFKA_HEAP:-768m}"
ready_timeout="${SERVICES_READY_TIMEOUT:-90}"

log() { echo "[services] $*"; }
die() { echo "[services] error: $*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() { # wait_for <description> <seconds> <command...>
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$what not ready after ${secs}s"
    sleep 0.5
  done
}

# ---------- Redis ----------

redis_up_single() {
  local dir="$local_dir/redis/single"
  mkdir -p "$dir"
  if pid_alive "$dir/redis.pid" && redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    log "redis already running on 127.0.0.1:$redis_port"
    return
  fi
  port_open "$redis_port" && die "port $redis_port is taken by another process; set REDIS_PORT"
  command -v redis-server >/dev/null || die "redis-server not installed; run scripts/install-system.sh"
  log "starting redis on 127.0.0.1:$redis_port (log: $dir/redis.log)"
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$dir" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --save "" --appendonly no --protected-mode yes >/dev/null
  wait_for "redis" "$ready_timeout" redis-cli -p "$redis_port" ping
}

redis_cluster_up() {
  local base="$local_dir/redis/cluster" ports=() p i
  for i in 0 1 2; do
    p=$((redis_cluster_port + i)); ports+=("127.0.0.1:$p")
    local dir="$base/$p"
    mkdir -p "$dir"
    if pid_alive "$dir/redis.pid"; then continue; fi
    port_open "$p" && die "port $p is taken by another process; set REDIS_CLUSTER_PORT"
    log "starting redis cluster node on 127.0.0.1:$p (log: $dir/redis.log)"
    redis-server --bind 127.0.0.1 --port "$p" --dir "$dir" --cluster-enabled yes \
      --cluster-config-file nodes.conf --daemonize yes --pidfile "$dir/redis.pid" \
      --logfile "$dir/redis.log" --save "" --appendonly no >/dev/null
    wait_for "redis node $p" "$ready_timeout" redis-cli -p "$p" ping
  done
  if ! redis-cli -p "$redis_cluster_port" cluster info | grep -q 'cluster_state:ok'; then
    if [ "$(redis-cli -p "$redis_cluster_port" cluster info | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p')" = "1" ]; then
      log "creating 3-master redis cluster on ${ports[*]}"
      redis-cli --cluster create "${ports[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
    fi
    wait_for "redis cluster" "$ready_timeout" sh -c "redis-cli -p $redis_cluster_port cluster info | grep -q cluster_state:ok"
  fi
  log "redis cluster ready on ${ports[*]}"
}

# ---------- Kafka ----------

kafka_libs() {
  local libs="$local_dir/kafka/libs"
  if [ -f "$libs/.complete" ] && cmp -s "$root/scripts/kafka/pom.xml" "$libs/.complete"; then
    return
  fi
  command -v mvn >/dev/null || die "maven not installed; run scripts/install-system.sh"
  log "resolving Kafka jars from Maven Central into $libs"
  rm -rf "$libs"; mkdir -p "$libs"
  mvn -q -B -f "$root/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$libs" >"$local_dir/kafka/maven.log" 2>&1 \
    || die "maven failed; see $local_dir/kafka/maven.log"
  cp "$root/scripts/kafka/pom.xml" "$libs/.complete"
}

kafka_props() { # kafka_props <node-id> <nodes> <dir>
  local id=$1 nodes=$2 dir=$3 voters="" n
  for n in $(seq 1 "$nodes"); do
    voters+="${voters:+,}$n@127.0.0.1:$((controller_port + n - 1))"
  done
  local rf=$(( nodes >= 3 ? 3 : 1 )) isr=$(( nodes >= 3 ? 2 : 1 ))
  cat <<EOF
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$((kafka_port + id - 1)),CONTROLLER://127.0.0.1:$((controller_port + id - 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$((kafka_port + id - 1))
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=6
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=24
log.segment.bytes=67108864
EOF
}

kafka_up() {
  local nodes=$1 id
  kafka_libs
  local cluster_id_file="$local_dir/kafka/cluster-$nodes.id"
  [ -f "$cluster_id_file" ] || java -cp "$local_dir/kafka/libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1 >"$cluster_id_file"
  for id in $(seq 1 "$nodes"); do
    local dir="$local_dir/kafka/$nodes-node/$id" port=$((kafka_port + id - 1))
    mkdir -p "$dir"
    if pid_alive "$dir/broker.pid"; then log "kafka node $id already running on 127.0.0.1:$port"; continue; fi
    port_open "$port" && die "port $port is taken by another process; set KAFKA_PORT"
    kafka_props "$id" "$nodes" "$dir" >"$dir/server.properties"
    if [ ! -f "$dir/data/meta.properties" ]; then
      log "formatting kafka node $id storage in $dir/data"
      java -cp "$local_dir/kafka/libs/*" -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
        kafka.tools.StorageTool format -t "$(cat "$cluster_id_file")" -c "$dir/server.properties" \
        >"$dir/format.log" 2>&1 || die "storage format failed; see $dir/format.log"
    fi
    log "starting kafka node $id on 127.0.0.1:$port (log: $dir/broker.log)"
    nohup java "-Xmx$kafka_heap" "-Xms$kafka_heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -Djava.awt.headless=true -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
      -cp "$local_dir/kafka/libs/*" kafka.Kafka "$dir/server.properties" \
      >"$dir/broker.log" 2>&1 </dev/null &
    echo $! >"$dir/broker.pid"
  done
  for id in $(seq 1 "$nodes"); do
    local port=$((kafka_port + id - 1)) dir="$local_dir/kafka/$nodes-node/$id"
    wait_for "kafka node $id" "$ready_timeout" kafka_ready "$dir" "$port"
  done
  log "kafka ready: $(kafka_bootstrap "$nodes")"
}

kafka_ready() { # the broker logs this once it serves requests
  pid_alive "$1/broker.pid" || die "kafka exited during start-up; see $1/broker.log"
  port_open "$2" && grep -q 'Kafka Server started\|\[KafkaRaftServer nodeId=[0-9]*\] Kafka Server started' "$1/broker.log"
}

kafka_bootstrap() {
  local nodes=$1 out="" id
  for id in $(seq 1 "$nodes"); do out+="${out:+,}127.0.0.1:$((kafka_port + id - 1))"; done
  echo "$out"
}

# ---------- stop / status ----------

stop_pidfile() { # stop_pidfile <pidfile> <name>
  local pidfile=$1 name=$2 i
  pid_alive "$pidfile" || { rm -f "$pidfile"; return; }
  local pid; pid=$(cat "$pidfile")
  log "stopping $name (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

down() {
  local f
  shopt -s nullglob
  for f in "$local_dir"/kafka/*-node/*/broker.pid; do stop_pidfile "$f" "kafka $(basename "$(dirname "$f")")"; done
  for f in "$local_dir"/redis/*/redis.pid "$local_dir"/redis/cluster/*/redis.pid; do stop_pidfile "$f" "redis $(basename "$(dirname "$f")")"; done
  if [ "${1:-}" = "--purge" ]; then
    log "removing data under $local_dir/kafka/*-node and $local_dir/redis"
    rm -rf "$local_dir"/kafka/*-node "$local_dir"/kafka/cluster-*.id "$local_dir/redis"
  fi
  log "stopped"
}

status() {
  local f any=1
  shopt -s nullglob
  for f in "$local_dir"/redis/single/redis.pid "$local_dir"/redis/cluster/*/redis.pid "$local_dir"/kafka/*-node/*/broker.pid; do
    if pid_alive "$f"; then echo "running  $(dirname "${f#"$local_dir"/}") pid $(cat "$f")"; any=0
    else echo "stopped  $(dirname "${f#"$local_dir"/}")"; fi
  done
  [ $any -eq 0 ] || echo "no services running"
  return $any
}

main() {
  local cmd=${1:-}; shift || true
  local nodes=1 cluster=0 arg
  for arg in "$@"; do
    case $arg in
      --kafka-nodes=*) nodes=${arg#*=} ;;
      --redis-cluster) cluster=1 ;;
      --purge) ;;
      *) die "unknown option $arg" ;;
    esac
  done
  [ "$nodes" = 1 ] || [ "$nodes" = 3 ] || die "--kafka-nodes must be 1 or 3"
  mkdir -p "$local_dir/kafka"
  case $cmd in
    up)
      redis_up_single
      [ $cluster -eq 0 ] || redis_cluster_up
      kafka_up "$nodes"
      echo "KAFKA_BROKERS=$(kafka_bootstrap "$nodes")" >"$local_dir/services.env"
      echo "REDIS_URL=redis://127.0.0.1:$redis_port" >>"$local_dir/services.env"
      [ $cluster -eq 0 ] || echo "REDIS_CLUSTER_NODES=127.0.0.1:$redis_cluster_port,127.0.0.1:$((redis_cluster_port + 1)),127.0.0.1:$((redis_cluster_port + 2))" >>"$local_dir/services.env"
      log "connection settings written to $local_dir/services.env" ;;
    down) down "$@" ;;
    status) status ;;
    *) echo "usage: $0 up [--kafka-nodes=1|3] [--redis-cluster] | down [--purge] | status" >&2; exit 2 ;;
  esac
}

main "$@"
