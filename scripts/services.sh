#!/usr/bin/env bash
# Starts, stops and reports the local Redis and Apache Kafka (KRaft) the detector runs against.
#
#   scripts/services.sh up       [--kafka-nodes=1|3] [--redis-cluster] [--redis-cluster-secure] [--secure]
#   scripts/services.sh down     [--purge]
#   scripts/services.sh status
#
# --redis-cluster-secure adds a second 3-master Redis Cluster that speaks only TLS (client
# connections, the cluster bus and replication), from a local CA made with openssl under
# .local/tls/, and asks for a password: the admin's in `requirepass`, and an ACL user for the
# detector. Secrets are files under .local/secrets/ (mode 600), never on a command line. The
# detector's settings for it, in its own variable names, go to .local/redis-cluster-secure.env.
#
# --secure adds, beside the plain services, a Kafka that speaks only SASL_SSL to its clients
# (SCRAM users, TLS from the same local CA, ACLs enforced, nothing allowed without one) and a
# Redis that speaks only TLS with ACL users; see "the secured stack" below for ports and users.
# The worker's settings for them go to .local/secure.env.
#
# The fault suite's own services (scripts/faults.sh), beside the regular ones and never
# touching them: a 3-broker KRaft cluster and a Redis with AOF on, their own ports, data
# under .local/faults/ and settings in .local/faults/services.env:
#   scripts/services.sh up|down|status --faults     (down --faults --purge deletes their data)
#   scripts/services.sh kafka-node stop|kill|start <node-id> --faults   one broker: SIGTERM, SIGKILL, start
#   scripts/services.sh redis-restart --faults      a graceful SHUTDOWN (AOF flushed), then start again
#
# Idempotent: `up` leaves running services alone and only starts what is missing.
# Everything lives under $FD_LOCAL_DIR (default .local/): jars, data and logs.
# Ports: REDIS_PORT (6379), KAFKA_PORT (9092; a 3-node cluster uses 9092-9094),
# KAFKA_CONTROLLER_PORT (19093, +1 per node), REDIS_CLUSTER_PORT (7000, 3 masters 7000-7002),
# REDIS_CLUSTER_SECURE_PORT (7100, 3 masters 7100-7102, TLS only);
# with --faults: FAULTS_REDIS_PORT (6390), FAULTS_KAFKA_PORT (9192-9194),
# FAULTS_KAFKA_CONTROLLER_PORT (19192-19194).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
local_dir="${FD_LOCAL_DIR:-$root/.local}"
# Data, logs and the settings file; --faults moves them to $local_dir/faults (jars stay shared).
state_dir="$local_dir"
redis_port="${REDIS_PORT:-6379}"
# Redis persists with AOF, fsynced every second: a crash loses at most the last second of
# writes, and a restart comes back with the rest (README, "Redis loss").
redis_aof=yes
kafka_port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-19093}"
redis_cluster_port="${REDIS_CLUSTER_PORT:-7000}"
redis_cluster_secure_port="${REDIS_CLUSTER_SECURE_PORT:-7100}"
kafka_heap="${KAFKA_HEAP:-768m}"
ready_timeout="${SERVICES_READY_TIMEOUT:-90}"

use_fault_services() {
  state_dir="$local_dir/faults"
  redis_port="${FAULTS_REDIS_PORT:-6390}"
  redis_aof=yes
  kafka_port="${FAULTS_KAFKA_PORT:-9192}"
  controller_port="${FAULTS_KAFKA_CONTROLLER_PORT:-19192}"
  kafka_heap="${FAULTS_KAFKA_HEAP:-512m}"
}

log() { echo "[services] $*"; }
die() { echo "[services] error: $*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The AOF is rewritten once it has grown 4 times its last rewrite (and past 1 GB), as
# deploy/redis/redis.conf recommends: the feature store rewrites every state it touches, so
# at Redis's default (100%, 64 MB) a backlog drain forked a rewrite of the whole dataset every
# few seconds, 14 µs of CPU per event (bench/e2e.ts).
redis_aof_rewrite="--auto-aof-rewrite-percentage 400 --auto-aof-rewrite-min-size 1gb"
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

redis_pong() { [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = PONG ]; }

redis_up_single() {
  local dir="$state_dir/redis/single"
  mkdir -p "$dir"
  if pid_alive "$dir/redis.pid" && redis_pong; then
    log "redis already running on 127.0.0.1:$redis_port"
    return
  fi
  port_open "$redis_port" && die "port $redis_port is taken by another process; set REDIS_PORT (FAULTS_REDIS_PORT with --faults)"
  command -v redis-server >/dev/null || die "redis-server not installed; run scripts/install-system.sh"
  log "starting redis on 127.0.0.1:$redis_port, appendonly $redis_aof (log: $dir/redis.log)"
  # With AOF on, every write is logged and fsynced each second, and a graceful SHUTDOWN
  # flushes it: a restart comes back with every acknowledged write.
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$dir" \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --save "" --appendonly "$redis_aof" --appendfsync everysec $redis_aof_rewrite --protected-mode yes >/dev/null
  # PONG only once the AOF is loaded (while loading, PING answers LOADING).
  wait_for "redis" "$ready_timeout" redis_pong
}

redis_restart() { # graceful: SHUTDOWN flushes the AOF; then the same server starts again
  local dir="$state_dir/redis/single" i
  pid_alive "$dir/redis.pid" || die "redis on 127.0.0.1:$redis_port is not running"
  local pid; pid=$(cat "$dir/redis.pid")
  log "restarting redis on 127.0.0.1:$redis_port (SHUTDOWN, then start)"
  redis-cli -p "$redis_port" shutdown >/dev/null 2>&1 || true
  for i in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && die "redis (pid $pid) did not stop after SHUTDOWN; see $dir/redis.log"
  redis_up_single
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
      --logfile "$dir/redis.log" --save "" --appendonly yes --appendfsync everysec $redis_aof_rewrite >/dev/null
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

# ---------- Redis Cluster, TLS only, with a password ----------

redis_secure_user=fd-detector

secret_file() { # secret_file <path>: a random password, made once, readable by its owner only
  [ -s "$1" ] && return
  mkdir -p "$(dirname "$1")"
  chmod 700 "$(dirname "$1")"
  (umask 077; openssl rand -hex 24 >"$1")
  log "generated a password in $1"
}

secure_cli() { # redis-cli over TLS as the admin; the password goes through the environment, not argv
  REDISCLI_AUTH="$(cat "$local_dir/secrets/redis-admin.password")" \
    redis-cli --tls --cacert "$local_dir/tls/ca.crt" -h 127.0.0.1 "$@"
}

secure_pong() { [ "$(secure_cli -p "$1" ping 2>/dev/null)" = PONG ]; }

secure_cluster_ok() { secure_cli -p "$redis_cluster_secure_port" cluster info 2>/dev/null | grep -q cluster_state:ok; }

# A node's configuration file, secrets included, so that they stay out of `ps`; mode 600.
# No plaintext port; clients may present a certificate (verified against the CA) or not.
redis_secure_conf() { # redis_secure_conf <port> <dir>
  local p=$1 dir=$2 tls="$local_dir/tls" admin detector
  admin=$(cat "$local_dir/secrets/redis-admin.password")
  detector=$(cat "$local_dir/secrets/redis-detector.password")
  (umask 077; cat >"$dir/redis.conf" <<EOF
bind 127.0.0.1
port 0
tls-port $p
tls-cert-file "$tls/redis-server.crt"
tls-key-file "$tls/redis-server.key"
tls-ca-cert-file "$tls/ca.crt"
tls-auth-clients optional
tls-cluster yes
tls-replication yes
cluster-enabled yes
cluster-config-file nodes.conf
dir "$dir"
daemonize yes
pidfile "$dir/redis.pid"
logfile "$dir/redis.log"
save ""
appendonly no
requirepass $admin
masterauth $admin
user $redis_secure_user on >$detector ~* &* +@all
EOF
  )
}

redis_cluster_secure_up() {
  local base="$local_dir/redis/cluster-secure" ports=() nodes="" p i
  "$root/scripts/local-ca.sh" "$local_dir/tls" redis-server "DNS:localhost,IP:127.0.0.1"
  "$root/scripts/local-ca.sh" "$local_dir/tls" redis-client "DNS:fraud-detector"
  secret_file "$local_dir/secrets/redis-admin.password"
  secret_file "$local_dir/secrets/redis-detector.password"
  for i in 0 1 2; do
    p=$((redis_cluster_secure_port + i)); ports+=("127.0.0.1:$p"); nodes+="${nodes:+,}127.0.0.1:$p"
    local dir="$base/$p"
    mkdir -p "$dir"
    if pid_alive "$dir/redis.pid"; then continue; fi
    port_open "$p" && die "port $p is taken by another process; set REDIS_CLUSTER_SECURE_PORT"
    log "starting redis cluster node on 127.0.0.1:$p, TLS only, password required (log: $dir/redis.log)"
    redis_secure_conf "$p" "$dir"
    redis-server "$dir/redis.conf" >/dev/null
    wait_for "redis node $p" "$ready_timeout" secure_pong "$p"
  done
  if ! secure_cluster_ok; then
    if [ "$(secure_cli -p "$redis_cluster_secure_port" cluster info | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p')" = "1" ]; then
      log "creating 3-master redis cluster (TLS) on ${ports[*]}"
      secure_cli --cluster create "${ports[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
    fi
    wait_for "redis cluster (TLS)" "$ready_timeout" secure_cluster_ok
  fi
  local env_file="$local_dir/redis-cluster-secure.env"
  {
    echo "REDIS_CLUSTER_NODES=$nodes"
    echo "REDIS_TLS=true"
    echo "REDIS_TLS_CA_FILE=$local_dir/tls/ca.crt"
    echo "REDIS_TLS_CERT_FILE=$local_dir/tls/redis-client.crt"
    echo "REDIS_TLS_KEY_FILE=$local_dir/tls/redis-client.key"
    echo "REDIS_USERNAME=$redis_secure_user"
    echo "REDIS_PASSWORD_FILE=$local_dir/secrets/redis-detector.password"
  } >"$env_file"
  log "redis cluster (TLS, password) ready on ${ports[*]}; the detector's settings: $env_file"
}

# ---------- the secured stack (--secure): Kafka SASL_SSL with ACLs, Redis TLS-only with ACL users ----------
#
# Kafka, one KRaft node on ports of its own (the plain broker keeps running):
#   SECURE_KAFKA_PORT (9095)             SASL_SSL, SCRAM-SHA-512 and -256, and a client certificate
#                                        from the local CA (mutual TLS): the clients' listener
#   SECURE_KAFKA_BROKER_PORT (9096)      SSL with a client certificate required: inter-broker
#   SECURE_KAFKA_CONTROLLER_PORT (19095) SSL with a client certificate required: the controller
# SCRAM credentials cannot authenticate the controller listener (they live in the metadata the
# controller serves), so broker and controller authenticate each other with the broker's
# certificate, whose principal User:CN=kafka-server is a super user, as Kafka's security docs
# describe. The StandardAuthorizer denies whatever no ACL allows. Users (SCRAM, created when
# the storage is formatted): fd-admin (super user: topics, ACLs); fraud-detector, fraud-producer
# (the simulator) and fraud-subscriber, whose ACLs come from `fraud-detector topics acls --apply`;
# fd-outsider, with no ACL at all (for the tests). Passwords: .local/secrets/kafka-<user>.password.
# Redis, single, TLS only on SECURE_REDIS_PORT (6380): the default user off, fd-admin for
# everything, fd-detector limited to the keys `fd:*` and the commands the feature store sends.
# Settings, in the detector's variable names: .local/secure.env (the worker), and
# .local/secure-{admin,producer,subscriber}.env for the other principals (fd-admin, fraud-producer,
# fraud-subscriber).

secure_kafka_users=(fd-admin fraud-detector fraud-producer fraud-subscriber fd-outsider)
secure_kafka_port="${SECURE_KAFKA_PORT:-9095}"
secure_kafka_broker_port="${SECURE_KAFKA_BROKER_PORT:-9096}"
secure_kafka_controller_port="${SECURE_KAFKA_CONTROLLER_PORT:-19095}"
secure_kafka_heap="${SECURE_KAFKA_HEAP:-512m}"
secure_redis_port="${SECURE_REDIS_PORT:-6380}"
# The feature store's commands, and nothing else: reads (MGET, GET on a Cluster), its Lua
# scripts (EVALSHA, EVAL, SCRIPT LOAD and EXISTS when ioredis pipelines them) and the commands
# the scripts call, which Redis checks against the same user; connection upkeep (PING, INFO
# for ioredis's ready check, CLUSTER SLOTS on a Cluster). Keys: the prefix only; no channels.
secure_redis_detector_acl="resetkeys ~fd:* resetchannels -@all +ping +info +quit +mget +get +evalsha +eval +script|load +script|exists +cluster|slots +set +getrange +del +hset +pexpire +incr +hgetall +hkeys +hdel"

secure_kafka_dir() { echo "$local_dir/kafka/secure-node/1"; }

# One PEM file with the broker's key and certificate: Kafka's PEM keystore (no keystore password).
secure_kafka_tls() {
  local tls="$local_dir/tls"
  "$root/scripts/local-ca.sh" "$tls" kafka-server "DNS:localhost,IP:127.0.0.1"
  "$root/scripts/local-ca.sh" "$tls" kafka-client "DNS:fraud-detector"
  (umask 077; cat "$tls/kafka-server.key" "$tls/kafka-server.crt" >"$tls/kafka-server.pem")
}

secure_kafka_props() { # secure_kafka_props <dir>
  local dir=$1 tls="$local_dir/tls"
  cat <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$secure_kafka_controller_port
listeners=SASL_SSL://127.0.0.1:$secure_kafka_port,BROKER://127.0.0.1:$secure_kafka_broker_port,CONTROLLER://127.0.0.1:$secure_kafka_controller_port
advertised.listeners=SASL_SSL://127.0.0.1:$secure_kafka_port,BROKER://127.0.0.1:$secure_kafka_broker_port
controller.listener.names=CONTROLLER
inter.broker.listener.name=BROKER
listener.security.protocol.map=SASL_SSL:SASL_SSL,BROKER:SSL,CONTROLLER:SSL
sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$tls/kafka-server.pem
ssl.truststore.type=PEM
ssl.truststore.location=$tls/ca.crt
ssl.endpoint.identification.algorithm=https
ssl.client.auth=required
# SASL_SSL listeners ignore ssl.client.auth unless it is set for the listener (KIP-684).
listener.name.sasl_ssl.ssl.client.auth=required
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:CN=kafka-server;User:fd-admin
log.dirs=$dir/data
num.partitions=6
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=24
log.segment.bytes=67108864
EOF
}

# Formats the storage with the SCRAM users. The passwords go to the JVM in an argument file
# (mode 600, removed after), which the java launcher reads, so they never appear in `ps`.
secure_kafka_format() { # secure_kafka_format <dir>
  local dir=$1 args user
  args=$(mktemp); chmod 600 "$args"
  {
    echo "-Dlog4j2.configurationFile=$root/scripts/kafka/log4j2.properties"
    echo "-cp"; echo "$local_dir/kafka/libs/*"
    echo "kafka.tools.StorageTool"; echo "format"; echo "-t"; cat "$local_dir/kafka/cluster-secure.id"
    echo "-c"; echo "$dir/server.properties"
    for user in "${secure_kafka_users[@]}"; do
      echo "--add-scram"; echo "SCRAM-SHA-512=[name=$user,password=$(cat "$local_dir/secrets/kafka-$user.password")]"
      echo "--add-scram"; echo "SCRAM-SHA-256=[name=$user,password=$(cat "$local_dir/secrets/kafka-$user.password")]"
    done
  } >"$args"
  log "formatting secured kafka storage in $dir/data with SCRAM users ${secure_kafka_users[*]}"
  if ! java "@$args" >"$dir/format.log" 2>&1; then rm -f "$args"; die "storage format failed; see $dir/format.log"; fi
  rm -f "$args"
}

secure_kafka_up() {
  local dir user
  dir=$(secure_kafka_dir)
  kafka_libs
  secure_kafka_tls
  for user in "${secure_kafka_users[@]}"; do secret_file "$local_dir/secrets/kafka-$user.password"; done
  mkdir -p "$dir"
  if pid_alive "$dir/broker.pid"; then
    log "secured kafka already running on 127.0.0.1:$secure_kafka_port"
  else
    for p in "$secure_kafka_port" "$secure_kafka_broker_port" "$secure_kafka_controller_port"; do
      port_open "$p" && die "port $p is taken by another process; set SECURE_KAFKA_PORT, SECURE_KAFKA_BROKER_PORT, SECURE_KAFKA_CONTROLLER_PORT"
    done
    [ -f "$local_dir/kafka/cluster-secure.id" ] || java -cp "$local_dir/kafka/libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1 >"$local_dir/kafka/cluster-secure.id"
    secure_kafka_props "$dir" >"$dir/server.properties"
    [ -f "$dir/data/meta.properties" ] || secure_kafka_format "$dir"
    if [ -s "$dir/broker.log" ]; then mv "$dir/broker.log" "$dir/broker.previous.log"; fi
    log "starting secured kafka on 127.0.0.1:$secure_kafka_port (SASL_SSL), $secure_kafka_broker_port and $secure_kafka_controller_port (mutual TLS) (log: $dir/broker.log)"
    nohup java "-Xmx$secure_kafka_heap" "-Xms$secure_kafka_heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -Djava.awt.headless=true -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
      -cp "$local_dir/kafka/libs/*" kafka.Kafka "$dir/server.properties" \
      >"$dir/broker.log" 2>&1 </dev/null &
    echo $! >"$dir/broker.pid"
  fi
  secure_kafka_tools
}

# Kafka's own ACL tool from the jars, for `fraud-detector topics acls --apply --kafka-acls <this>`.
secure_kafka_tools() {
  local bin="$local_dir/kafka/bin"
  mkdir -p "$bin"
  cat >"$bin/kafka-acls.sh" <<EOF
#!/usr/bin/env bash
# Kafka's kafka-acls, from the jars services.sh resolved (written by scripts/services.sh).
exec java -Xmx256m -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2-tools.properties" -cp "$local_dir/kafka/libs/*" org.apache.kafka.tools.AclCommand "\$@"
EOF
  chmod 755 "$bin/kafka-acls.sh"
}

secure_redis_cli() { # redis-cli over TLS as fd-admin; the password through the environment
  REDISCLI_AUTH="$(cat "$local_dir/secrets/redis-admin.password")" \
    redis-cli --tls --cacert "$local_dir/tls/ca.crt" -h 127.0.0.1 -p "$secure_redis_port" --user fd-admin "$@"
}

secure_redis_pong() { [ "$(secure_redis_cli ping 2>/dev/null)" = PONG ]; }

secure_redis_up() {
  local dir="$local_dir/redis/secure" tls="$local_dir/tls"
  "$root/scripts/local-ca.sh" "$tls" redis-server "DNS:localhost,IP:127.0.0.1"
  secret_file "$local_dir/secrets/redis-admin.password"
  secret_file "$local_dir/secrets/redis-detector.password"
  mkdir -p "$dir"
  if pid_alive "$dir/redis.pid" && secure_redis_pong; then
    log "secured redis already running on 127.0.0.1:$secure_redis_port"
    return
  fi
  port_open "$secure_redis_port" && die "port $secure_redis_port is taken by another process; set SECURE_REDIS_PORT"
  (umask 077; cat >"$dir/redis.conf" <<EOF
bind 127.0.0.1
port 0
tls-port $secure_redis_port
tls-cert-file "$tls/redis-server.crt"
tls-key-file "$tls/redis-server.key"
tls-ca-cert-file "$tls/ca.crt"
tls-auth-clients optional
dir "$dir"
daemonize yes
pidfile "$dir/redis.pid"
logfile "$dir/redis.log"
save ""
appendonly yes
appendfsync everysec
auto-aof-rewrite-percentage 400
auto-aof-rewrite-min-size 1gb
user default off
user fd-admin on >$(cat "$local_dir/secrets/redis-admin.password") ~* &* +@all
user fd-detector on >$(cat "$local_dir/secrets/redis-detector.password") $secure_redis_detector_acl
EOF
  )
  log "starting redis on 127.0.0.1:$secure_redis_port, TLS only, default user off, ACL users fd-admin and fd-detector (log: $dir/redis.log)"
  redis-server "$dir/redis.conf" >/dev/null
  wait_for "secured redis" "$ready_timeout" secure_redis_pong
}

secure_env() { # secure_env <kafka user>: the Kafka settings of one principal, in the detector's names
  echo "KAFKA_BROKERS=127.0.0.1:$secure_kafka_port"
  echo "KAFKA_SECURITY_PROTOCOL=SASL_SSL"
  echo "KAFKA_SASL_MECHANISM=SCRAM-SHA-512"
  echo "KAFKA_SASL_USERNAME=$1"
  echo "KAFKA_SASL_PASSWORD_FILE=$local_dir/secrets/kafka-$1.password"
  echo "KAFKA_SSL_CA_LOCATION=$local_dir/tls/ca.crt"
  echo "KAFKA_SSL_CERTIFICATE_LOCATION=$local_dir/tls/kafka-client.crt"
  echo "KAFKA_SSL_KEY_LOCATION=$local_dir/tls/kafka-client.key"
}

secure_ready() { # waits for the secured broker, then writes the env files
  local dir; dir=$(secure_kafka_dir)
  wait_for "secured kafka" "$ready_timeout" kafka_ready "$dir" "$secure_kafka_port"
  {
    secure_env fraud-detector
    echo "REDIS_URL=rediss://127.0.0.1:$secure_redis_port"
    echo "REDIS_TLS_CA_FILE=$local_dir/tls/ca.crt"
    echo "REDIS_USERNAME=fd-detector"
    echo "REDIS_PASSWORD_FILE=$local_dir/secrets/redis-detector.password"
  } >"$local_dir/secure.env"
  secure_env fd-admin >"$local_dir/secure-admin.env"
  secure_env fraud-producer >"$local_dir/secure-producer.env"
  secure_env fraud-subscriber >"$local_dir/secure-subscriber.env"
  log "secured kafka ready on 127.0.0.1:$secure_kafka_port, secured redis on 127.0.0.1:$secure_redis_port"
  log "the worker's settings: $local_dir/secure.env; fd-admin's, fraud-producer's, fraud-subscriber's: $local_dir/secure-{admin,producer,subscriber}.env"
}

# ---------- Kafka ----------

kafka_libs() {
  local libs="$local_dir/kafka/libs"
  mkdir -p "$local_dir/kafka"
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

kafka_node_dir() { echo "$state_dir/kafka/$1-node/$2"; } # kafka_node_dir <nodes> <node-id>

kafka_up() {
  local nodes=$1 id
  kafka_libs
  local cluster_id_file="$state_dir/kafka/cluster-$nodes.id"
  mkdir -p "$state_dir/kafka"
  [ -f "$cluster_id_file" ] || java -cp "$local_dir/kafka/libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1 >"$cluster_id_file"
  for id in $(seq 1 "$nodes"); do kafka_start_node "$nodes" "$id"; done
  for id in $(seq 1 "$nodes"); do
    wait_for "kafka node $id" "$ready_timeout" kafka_ready "$(kafka_node_dir "$nodes" "$id")" "$((kafka_port + id - 1))"
  done
  log "kafka ready: $(kafka_bootstrap "$nodes")"
}

kafka_start_node() { # kafka_start_node <nodes> <node-id>: starts it unless it runs; does not wait
  local nodes=$1 id=$2 dir port=$((kafka_port + $2 - 1))
  dir=$(kafka_node_dir "$nodes" "$id")
  mkdir -p "$dir"
  if pid_alive "$dir/broker.pid"; then log "kafka node $id already running on 127.0.0.1:$port"; return; fi
  port_open "$port" && die "port $port is taken by another process; set KAFKA_PORT (FAULTS_KAFKA_PORT with --faults)"
  kafka_props "$id" "$nodes" "$dir" >"$dir/server.properties"
  if [ ! -f "$dir/data/meta.properties" ]; then
    log "formatting kafka node $id storage in $dir/data"
    java -cp "$local_dir/kafka/libs/*" -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
      kafka.tools.StorageTool format -t "$(cat "$state_dir/kafka/cluster-$nodes.id")" -c "$dir/server.properties" \
      >"$dir/format.log" 2>&1 || die "storage format failed; see $dir/format.log"
  fi
  # A restarted node keeps its previous run's log (the fault suite restarts nodes on purpose).
  if [ -s "$dir/broker.log" ]; then mv "$dir/broker.log" "$dir/broker.previous.log"; fi
  log "starting kafka node $id on 127.0.0.1:$port (log: $dir/broker.log)"
  nohup java "-Xmx$kafka_heap" "-Xms$kafka_heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
    -cp "$local_dir/kafka/libs/*" kafka.Kafka "$dir/server.properties" \
    >"$dir/broker.log" 2>&1 </dev/null &
  echo $! >"$dir/broker.pid"
}

kafka_node() { # kafka_node stop|kill|start <nodes> <node-id>
  local action=$1 nodes=$2 id=$3 dir pid i
  dir=$(kafka_node_dir "$nodes" "$id")
  [ -d "$dir" ] || die "no kafka node $id under $state_dir/kafka/$nodes-node (run up first)"
  case $action in
    start)
      kafka_start_node "$nodes" "$id"
      wait_for "kafka node $id" "$ready_timeout" kafka_ready "$dir" "$((kafka_port + id - 1))"
      log "kafka node $id ready" ;;
    stop) stop_pidfile "$dir/broker.pid" "kafka node $id" ;;
    kill)
      pid_alive "$dir/broker.pid" || { log "kafka node $id is not running"; return; }
      pid=$(cat "$dir/broker.pid")
      log "killing kafka node $id (SIGKILL, pid $pid)"
      kill -9 "$pid" 2>/dev/null || true
      for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      rm -f "$dir/broker.pid" ;;
    *) die "kafka-node: expected stop, kill or start, got $action" ;;
  esac
}

kafka_ready() { # the broker logs this once it serves requests
  pid_alive "$1/broker.pid" || die "kafka exited during start-up; see $1/broker.log"
  port_open "$2" && grep -q 'Kafka Server started\|\[KafkaRaftServer nodeId=[0-9]*\] Kafka Server started' "$1/broker.log"
}

kafka_bootstrap() { # kafka_bootstrap <nodes> [first-port]: host:port of every node
  local nodes=$1 first=${2:-$kafka_port} out="" id
  for id in $(seq 1 "$nodes"); do out+="${out:+,}127.0.0.1:$((first + id - 1))"; done
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

# Without --faults these leave the fault suite's services alone (CI runs both at once).
down() {
  local purge=$1 f
  shopt -s nullglob
  for f in "$state_dir"/kafka/*-node/*/broker.pid; do stop_pidfile "$f" "kafka $(basename "$(dirname "$f")")"; done
  for f in "$state_dir"/redis/*/redis.pid "$state_dir"/redis/cluster/*/redis.pid "$state_dir"/redis/cluster-secure/*/redis.pid; do
    stop_pidfile "$f" "redis $(basename "$(dirname "$f")")"
  done
  if [ "$purge" = 1 ]; then
    log "removing data under $state_dir/kafka/*-node and $state_dir/redis, and the local CA and secrets"
    rm -rf "$state_dir"/kafka/*-node "$state_dir"/kafka/cluster-*.id "$state_dir/redis" \
      "$state_dir/tls" "$state_dir/secrets" "$state_dir/redis-cluster-secure.env" "$state_dir"/secure*.env
  fi
  log "stopped"
}

status() {
  local f any=1
  shopt -s nullglob
  for f in "$state_dir"/redis/single/redis.pid "$state_dir"/redis/cluster/*/redis.pid "$state_dir"/redis/cluster-secure/*/redis.pid \
    "$state_dir"/redis/secure/redis.pid \
    "$state_dir"/kafka/*-node/*/broker.pid; do
    if pid_alive "$f"; then echo "running  $(dirname "${f#"$local_dir"/}") pid $(cat "$f")"; any=0
    else echo "stopped  $(dirname "${f#"$local_dir"/}")"; fi
  done
  [ $any -eq 0 ] || echo "no services running"
  return $any
}

usage() {
  echo "usage: $0 up [--kafka-nodes=1|3] [--redis-cluster] [--redis-cluster-secure] [--secure] | down [--purge] | status" >&2
  echo "       $0 up|down [--purge]|status --faults | kafka-node stop|kill|start <id> --faults | redis-restart --faults" >&2
  exit 2
}

main() {
  local cmd=${1:-}; shift || true
  local nodes=1 cluster=0 cluster_secure=0 secure=0 purge=0 faults=0 arg positional=()
  for arg in "$@"; do
    case $arg in
      --kafka-nodes=*) nodes=${arg#*=} ;;
      --redis-cluster) cluster=1 ;;
      --redis-cluster-secure) cluster_secure=1 ;;
      --secure) secure=1 ;;
      --purge) purge=1 ;;
      --faults) faults=1 ;;
      --*) die "unknown option $arg" ;;
      *) positional+=("$arg") ;;
    esac
  done
  [ "$nodes" = 1 ] || [ "$nodes" = 3 ] || die "--kafka-nodes must be 1 or 3"
  if [ $faults -eq 1 ]; then
    [ $((cluster + cluster_secure + secure)) -eq 0 ] || die "--faults runs no redis cluster and no secured services"
    use_fault_services
    nodes=3
  fi
  case $cmd in
    up)
      redis_up_single
      [ $cluster -eq 0 ] || redis_cluster_up
      [ $cluster_secure -eq 0 ] || redis_cluster_secure_up
      # The secured broker starts first and is waited for last: the two JVMs start together.
      [ $secure -eq 0 ] || { secure_redis_up; secure_kafka_up; }
      kafka_up "$nodes"
      [ $secure -eq 0 ] || secure_ready
      local env_file="$state_dir/services.env"
      {
        echo "KAFKA_BROKERS=$(kafka_bootstrap "$nodes")"
        echo "REDIS_URL=redis://127.0.0.1:$redis_port"
        # A running Cluster stays in the file even when this `up` did not ask for it.
        [ $cluster -eq 0 ] && ! pid_alive "$local_dir/redis/cluster/$redis_cluster_port/redis.pid" || echo "REDIS_CLUSTER_NODES=127.0.0.1:$redis_cluster_port,127.0.0.1:$((redis_cluster_port + 1)),127.0.0.1:$((redis_cluster_port + 2))"
        [ $faults -eq 0 ] || echo "KAFKA_CONTROLLERS=$(kafka_bootstrap "$nodes" "$controller_port")"
      } >"$env_file"
      log "connection settings written to $env_file" ;;
    down) down "$purge" ;;
    status) status ;;
    kafka-node)
      [ $faults -eq 1 ] || die "kafka-node is for the fault suite's cluster: add --faults"
      [ ${#positional[@]} -eq 2 ] || usage
      kafka_node "${positional[0]}" "$nodes" "${positional[1]}" ;;
    redis-restart)
      [ $faults -eq 1 ] || die "redis-restart is for the fault suite's redis: add --faults"
      redis_restart ;;
    *) usage ;;
  esac
}

main "$@"
