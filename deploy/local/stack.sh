#!/usr/bin/env bash
# Native local stack for machines without a Docker engine (docs/adr/0008-local-stack-without-docker.md):
#   Kafka  — Apache Kafka broker jars from Maven Central, KRaft combined mode, Java 17
#   Mongo  — the Mongo-wire server chosen by MONGO_BACKEND:
#              secantusdb  SecantusDB's Rust server (secantusd-rs), built with cargo once per user
#                          and version into ~/.cache/trackme/ (WiredTiger storage, GPL-2.0-only,
#                          run as a separate process)
#              ferretdb    FerretDB 1.24 built with Go (SQLite handler), the fallback
#              mongod      a MongoDB server on PATH
#              (default: mongod when on PATH, otherwise ferretdb)
#   Redis  — Debian's redis-server
#
# usage: stack.sh provision|up|down|reset|status|env [dev|test|bench|chaos] [kafka|mongo|redis …]
#   provision  download/build what is missing (cached per user in ~/.cache/trackme/, idempotent)
#   up         provision, then start the profile's servers (all, or those named) and wait until they answer
#   down       stop the profile's servers (SIGTERM, then SIGKILL after a grace period)
#   status     print each server's state and address
#   env        print the variables that reach the profile's servers (addresses and credentials)
# The "bench" profile is a second open stack on its own ports, e.g. for a Mongo-wire server the
# bench may kill (`npm run bench -- server-crash`) or to compare backends beside the dev stack.
# The "chaos" profile is an open broker the chaos test owns and kills (`stack.sh up chaos kafka`):
# the test stack's broker is shared by every test and must stay up.
# The "test" profile uses its own ports and starts from an empty data folder every time. Its
# servers ask for credentials like a deployment's: Kafka for SASL/SCRAM-SHA-512, Redis for an ACL
# user and password. The passwords are made up at each fresh start and kept in its state folder
# (credentials.env); they protect nothing but that throwaway stack. The dev profile stays open.
# MONGO_PORT moves the profile's Mongo-wire server to another port, so a second backend can run
# beside a running stack (e.g. `MONGO_BACKEND=secantusdb MONGO_PORT=27018 stack.sh up dev mongo`).
set -euo pipefail

KAFKA_VERSION=4.1.2
LOG4J_VERSION=2.25.3
FERRETDB_VERSION=v1.24.2
SECANTUSDB_VERSION=0.5.3-beta.196

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# built or fetched once per user and exact version, outside the clone: a fresh clone (CI) finds it there
cache="${TRACKME_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/trackme}"
cmd=${1:-status}
profile=${2:-dev}
servers=("${@:3}")
[ ${#servers[@]} -gt 0 ] || servers=(kafka mongo redis)
for server in "${servers[@]}"; do
  case "$server" in kafka | mongo | redis) ;; *) echo "unknown server '$server' (expected kafka, mongo or redis)" >&2; exit 2 ;; esac
done
wanted() { [[ " ${servers[*]} " == *" $1 "* ]]; }

case "$profile" in
  dev)  kafka_port=9092;  ctrl_port=9093;  mongo_port=27017; redis_port=6379 ;;
  test) kafka_port=19092; ctrl_port=19093; mongo_port=37017; redis_port=16379 ;;
  bench) kafka_port=29092; ctrl_port=29093; mongo_port=47017; redis_port=26379 ;;
  chaos) kafka_port=39092; ctrl_port=39093; mongo_port=57017; redis_port=36379 ;;
  *) echo "unknown profile '$profile' (expected dev, test, bench or chaos)" >&2; exit 2 ;;
esac
# a Mongo-wire server moved off the profile's port (MONGO_PORT) is a second one beside it, with
# its own pid, data and log
mongo_id=mongo
[ "${MONGO_PORT:-$mongo_port}" = "$mongo_port" ] || mongo_id=mongo-$MONGO_PORT
mongo_port=${MONGO_PORT:-$mongo_port}
state="$root/.local/stack/$profile"
if [ -n "${MONGO_BACKEND:-}" ]; then
  mongo_backend=$MONGO_BACKEND
elif command -v mongod >/dev/null; then
  mongo_backend=mongod
else
  mongo_backend=ferretdb
fi
case "$mongo_backend" in
  secantusdb | ferretdb | mongod) ;;
  *) echo "unknown MONGO_BACKEND '$mongo_backend' (expected secantusdb, ferretdb or mongod)" >&2; exit 2 ;;
esac
kafka_libs="$cache/kafka-$KAFKA_VERSION/libs"
# bump the build tag whenever the build steps below change, so cached binaries are rebuilt
FERRETDB_BUILD=$FERRETDB_VERSION-idindex1-updateconns1
ferretdb_bin="$cache/ferretdb-$FERRETDB_BUILD/ferretdb"
secantusdb_home="$cache/secantusdb-$SECANTUSDB_VERSION"
secantusdb_bin="$secantusdb_home/bin/secantusd-rs"

log() { printf '[stack:%s] %s\n' "$profile" "$*" >&2; }

# users of the test profile: the application's, and the broker's own on the inter-broker listener
APP_USER=trackme
BROKER_USER=broker
credentials="$state/credentials.env"
secured() { [ "$profile" = test ]; }

random_secret() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

make_credentials() {
  [ -f "$credentials" ] && return
  (umask 077 && printf 'APP_PASSWORD=%s\nBROKER_PASSWORD=%s\nREDIS_PASSWORD=%s\n' \
    "$(random_secret)" "$(random_secret)" "$(random_secret)" >"$credentials")
}

provision_redis() {
  command -v redis-server >/dev/null && return
  log "installing redis-server from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  # the Debian package starts a system instance on 6379; the stack runs its own
  (service redis-server stop || pkill -x redis-server || true) >/dev/null 2>&1
}

provision_kafka() {
  [ -f "$kafka_libs/.complete" ] && return
  command -v mvn >/dev/null || { log "Maven (mvn) is required to fetch the Kafka jars"; exit 1; }
  command -v java >/dev/null || { log "Java 17 is required to run Kafka"; exit 1; }
  log "resolving Apache Kafka $KAFKA_VERSION from Maven Central"
  local work="$cache/kafka-$KAFKA_VERSION"
  mkdir -p "$work"
  sed -e "s/@KAFKA_VERSION@/$KAFKA_VERSION/" -e "s/@LOG4J_VERSION@/$LOG4J_VERSION/" \
    "$root/deploy/local/kafka-pom.xml" >"$work/pom.xml"
  rm -rf "$kafka_libs"
  mvn -q -B -f "$work/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$kafka_libs" >"$work/mvn.log" 2>&1 \
    || { tail -30 "$work/mvn.log" >&2; exit 1; }
  touch "$kafka_libs/.complete"
}

provision_secantusdb() {
  [ -x "$secantusdb_bin" ] && return
  command -v cargo >/dev/null || { log "Rust's cargo is required to build SecantusDB (or choose MONGO_BACKEND=ferretdb)"; exit 1; }
  log "building SecantusDB $SECANTUSDB_VERSION with cargo (first run for this user only, about 15 minutes)"
  mkdir -p "$secantusdb_home"
  # --locked: the crate's own lock file; the crate declares a newer Rust than it needs
  nice -n 10 cargo install secantus-mdb --version "$SECANTUSDB_VERSION" --locked --ignore-rust-version \
    --root "$secantusdb_home.tmp" >"$secantusdb_home.log" 2>&1 ||
    { tail -30 "$secantusdb_home.log" >&2; log "SecantusDB build failed"; exit 1; }
  mkdir -p "$secantusdb_home/bin"
  mv "$secantusdb_home.tmp/bin/secantusd-rs" "$secantusdb_bin"
  rm -rf "$secantusdb_home.tmp"
}

provision_mongo() {
  case "$mongo_backend" in
    mongod) command -v mongod >/dev/null || { log "MONGO_BACKEND=mongod needs mongod on PATH"; exit 1; }; return ;;
    secantusdb) provision_secantusdb; return ;;
  esac
  [ -x "$ferretdb_bin" ] && return
  command -v go >/dev/null || { log "Go is required to build FerretDB"; exit 1; }
  log "building FerretDB $FERRETDB_VERSION with Go (first run for this user only)"
  local work="$cache/ferretdb-$FERRETDB_BUILD/src"
  mkdir -p "$work"
  cat >"$work/go.mod" <<EOF
module trackme.local/ferretdb

go 1.22

require github.com/FerretDB/FerretDB $FERRETDB_VERSION
EOF
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/FerretDB/FerretDB/cmd/ferretdb"\n' >"$work/tools.go"
  # The module is vendored, then three things are fixed before building:
  # 1. the module ships without its generated build/version/version.txt (FerretDB's release
  #    tooling writes it) and the binary refuses to start without it;
  # 2. SQLite queries filter _id with the expression  _ferretdb_sjson->'$._id'  while the _id
  #    index is built on  _ferretdb_sjson->"_id" , so SQLite never uses that index and every
  #    lookup by _id scans the table (33 ms at 10,000 documents instead of 1 ms). The patch
  #    makes the query use the index's own expression; results are unchanged.
  # 3. an update command keeps every statement's query iterator (each holds one of SQLite's 100
  #    pooled connections) open until the whole command ends, so one command of about 90
  #    statements, or a few concurrent ones of 50, wait forever for a connection and wedge the
  #    server. The patch closes each statement's iterator as soon as that statement is done.
  local meta=vendor/github.com/FerretDB/FerretDB/internal/backends/sqlite/metadata/metadata.go
  local update=vendor/github.com/FerretDB/FerretDB/internal/handler/msg_update.go
  (cd "$work" && go mod tidy >"$work/go.log" 2>&1 && go mod vendor >>"$work/go.log" 2>&1 &&
    echo "$FERRETDB_VERSION" >vendor/github.com/FerretDB/FerretDB/build/version/version.txt &&
    sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \`->\"_id\"\`|" "$meta" &&
    grep -q 'IDColumn = DefaultColumn + `->"_id"`' "$meta" &&
    sed -i -e '/^\t\tdefer closer.Close()$/d' \
      -e 's|^\t\tresult, err := common.UpdateDocument(ctx, c, "update", iter, &u)$|&\n\t\tcloser.Close()|' "$update" &&
    ! grep -q 'defer closer.Close()' "$update" && grep -qP '^\t\tcloser\.Close\(\)$' "$update" &&
    go build -mod=vendor -trimpath -o "$ferretdb_bin.tmp" github.com/FerretDB/FerretDB/cmd/ferretdb >>"$work/go.log" 2>&1) ||
    { tail -30 "$work/go.log" >&2; log "FerretDB build failed"; exit 1; }
  mv "$ferretdb_bin.tmp" "$ferretdb_bin"
}

provision() {
  mkdir -p "$cache"
  # two clones provisioning at once (a CI run beside a dev stack) build one copy, one after the other
  exec 8>"$cache/stack-provision.lock"
  flock 8
  if wanted redis; then provision_redis; fi
  if wanted kafka; then provision_kafka; fi
  if wanted mongo; then provision_mongo; fi
  # released before any server starts, so no server inherits the lock
  exec 8>&-
}

# a killed server nobody has reaped yet (a zombie) is not alive
pid_alive() {
  [ -f "$1" ] || return 1
  local pid
  pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null && ! grep -q '^[0-9]* (.*) Z' "/proc/$pid/stat" 2>/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# a server of ours that lost its pid file (or a foreign one) must not pass for the new one
assert_port_free() { # name port
  if port_open "$2"; then
    log "$1: port $2 is already in use by a process this stack did not start; stop it first"
    return 1
  fi
}


wait_port() { # name port pidfile logfile seconds
  local i
  for ((i = 0; i < $5 * 10; i++)); do
    port_open "$2" && return 0
    pid_alive "$3" || { log "$1 exited during start; last lines of $4:"; tail -20 "$4" >&2; return 1; }
    sleep 0.1
  done
  log "$1 did not open port $2 within $5 s; see $4"; return 1
}

start_redis() {
  pid_alive "$state/redis.pid" && return
  assert_port_free redis "$redis_port" || return 1
  mkdir -p "$state/redis"
  local acl=()
  if secured; then
    # only the application's user, by password; the passwordless default user is switched off
    (umask 077 && printf 'user default off\nuser %s on >%s ~* &* +@all\n' "$APP_USER" "$REDIS_PASSWORD" >"$state/redis/users.acl")
    acl=(--aclfile "$state/redis/users.acl")
  fi
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$state/redis" \
    --save 60 1000 --appendonly yes --daemonize no "${acl[@]}" \
    --logfile "$state/logs/redis.log" >/dev/null 2>&1 9>&- &
  echo $! >"$state/redis.pid"
  wait_port redis "$redis_port" "$state/redis.pid" "$state/logs/redis.log" 20
}

start_mongo() {
  pid_alive "$state/$mongo_id.pid" && return
  assert_port_free mongo "$mongo_port" || return 1
  case "$mongo_backend" in
    mongod)
      mkdir -p "$state/$mongo_id"
      mongod --port "$mongo_port" --bind_ip 127.0.0.1 --dbpath "$state/$mongo_id" \
        >"$state/logs/$mongo_id.log" 2>&1 9>&- &
      ;;
    secantusdb)
      # --sync-on-commit: an acknowledged write survives a kill -9 (without it the last ones are
      # lost); the cache is sized for a shared development machine, not WiredTiger's 4 GB default
      mkdir -p "$state/secantusdb${mongo_id#mongo}"
      "$secantusdb_bin" --host 127.0.0.1 --port "$mongo_port" --storage-path "$state/secantusdb${mongo_id#mongo}" \
        --sync-on-commit --cache-size 512M --log-level WARNING \
        >"$state/logs/$mongo_id.log" 2>&1 9>&- &
      ;;
    ferretdb)
      mkdir -p "$state/$mongo_id"
      "$ferretdb_bin" --handler=sqlite --sqlite-url="file:$state/$mongo_id/" \
        --listen-addr="127.0.0.1:$mongo_port" --telemetry=disable \
        --state-dir="$state/$mongo_id" --debug-addr=- --log-level=warn \
        >"$state/logs/$mongo_id.log" 2>&1 9>&- &
      ;;
  esac
  echo $! >"$state/$mongo_id.pid"
  echo "$mongo_backend" >"$state/$mongo_id.backend"
  wait_port mongo "$mongo_port" "$state/$mongo_id.pid" "$state/logs/$mongo_id.log" 30
}

start_kafka() {
  pid_alive "$state/kafka.pid" && return
  assert_port_free kafka "$kafka_port" || return 1
  local conf="$state/kafka/server.properties"
  mkdir -p "$state/kafka"
  local listener=PLAINTEXT scram=()
  if secured; then
    listener=SASL_PLAINTEXT
    scram=(--add-scram "SCRAM-SHA-512=[name=$APP_USER,password=$APP_PASSWORD]"
      --add-scram "SCRAM-SHA-512=[name=$BROKER_USER,password=$BROKER_PASSWORD]")
  fi
  if [ ! -f "$conf" ]; then
    (umask 077
      sed -e "s#@KAFKA_PORT@#$kafka_port#g" -e "s#@CTRL_PORT@#$ctrl_port#g" -e "s#@LISTENER@#$listener#g" \
        -e "s#@LOG_DIR@#$state/kafka/data#g" "$root/deploy/local/kafka-server.properties" >"$conf"
      if secured; then
        sed -e "s#@BROKER_USER@#$BROKER_USER#g" -e "s#@BROKER_PASSWORD@#$BROKER_PASSWORD#g" \
          "$root/deploy/local/kafka-sasl.properties" >>"$conf"
      fi)
  fi
  local java=(java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$root/deploy/local/kafka-log4j2.yaml"
    "-Dkafka.logs.dir=$state/logs" -cp "$kafka_libs/*")
  if [ ! -f "$state/kafka/data/meta.properties" ]; then
    local cluster_id
    cluster_id=$("${java[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    "${java[@]}" kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$conf" "${scram[@]}" \
      >"$state/logs/kafka-format.log" 2>&1 || { tail -20 "$state/logs/kafka-format.log" >&2; exit 1; }
  fi
  "${java[@]}" kafka.Kafka "$conf" >"$state/logs/kafka.log" 2>&1 9>&- &
  echo $! >"$state/kafka.pid"
  wait_port kafka "$kafka_port" "$state/kafka.pid" "$state/logs/kafka.log" 60
}

up() {
  provision
  if [ "$profile" = test ] && ! pid_alive "$state/kafka.pid" && ! pid_alive "$state/mongo.pid"; then
    rm -rf "$state"
  fi
  mkdir -p "$state/logs"
  if secured; then make_credentials; load_credentials; fi
  local name pids=() failed=0
  for name in redis mongo kafka; do
    if wanted "$name"; then "start_$name" & pids+=($!); fi
  done
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  if [ $failed -ne 0 ]; then down; exit 1; fi
  log "up: ${servers[*]} (kafka 127.0.0.1:$kafka_port, mongo $(running_backend) 127.0.0.1:$mongo_port, redis 127.0.0.1:$redis_port)"
}

# the backend the profile's Mongo-wire server was started with (the selection may have changed since)
running_backend() { cat "$state/$mongo_id.backend" 2>/dev/null || echo "$mongo_backend"; }

stop_one() { # name
  local pidfile="$state/$1.pid"
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  local pid i
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { log "$1 did not stop in 15 s; killing"; kill -KILL "$pid" 2>/dev/null || true; }
  rm -f "$pidfile"
}

down() {
  # Kafka first: it flushes faster while its clients can still disconnect cleanly
  if wanted kafka; then stop_one kafka; fi
  if wanted mongo; then stop_one "$mongo_id"; fi
  if wanted redis; then stop_one redis; fi
  log "down"
}

status() {
  local name port rc=0
  for name in "${servers[@]}"; do
    eval "port=\$${name}_port"
    local id=$name
    [ "$name" = mongo ] && id=$mongo_id
    if pid_alive "$state/$id.pid" && port_open "$port"; then
      printf '%-6s up    127.0.0.1:%s (pid %s%s)\n' "$name" "$port" "$(cat "$state/$id.pid")" \
        "$([ "$name" = mongo ] && echo ", $(running_backend)")"
    else
      printf '%-6s down  127.0.0.1:%s\n' "$name" "$port"; rc=3
    fi
  done
  return $rc
}

load_credentials() {
  # shellcheck disable=SC1090
  source "$credentials"
}

print_env() {
  printf 'KAFKA_BROKERS=127.0.0.1:%s\nMONGO_URL=mongodb://127.0.0.1:%s/trackme\n' "$kafka_port" "$mongo_port"
  if ! secured; then
    printf 'REDIS_URL=redis://127.0.0.1:%s\n' "$redis_port"
    return
  fi
  [ -f "$credentials" ] || { log "no credentials yet: run 'stack.sh up $profile' first"; return 1; }
  load_credentials
  printf 'KAFKA_SASL_MECHANISM=SCRAM-SHA-512\nKAFKA_SASL_USERNAME=%s\nKAFKA_SASL_PASSWORD=%s\n' "$APP_USER" "$APP_PASSWORD"
  printf 'REDIS_URL=redis://%s:%s@127.0.0.1:%s\n' "$APP_USER" "$REDIS_PASSWORD" "$redis_port"
}

# one up/down at a time per profile: a restart must not interleave with the previous stop
# (servers are started with fd 9 closed so they do not hold the lock after `up` returns)
lock() { mkdir -p "$root/.local/stack"; exec 9>"$root/.local/stack/$profile.lock"; flock 9; }

case "$cmd" in
  provision) provision ;;
  up) lock; up ;;
  down) lock; down ;;
  # drops the profile's data (topics, databases, Redis): a clean slate, e.g. before benchmarks
  reset)
    lock; down
    if [ ${#servers[@]} -eq 3 ]; then rm -rf "$state"; else
      for server in "${servers[@]}"; do
        case "$server" in mongo) rm -rf "${state:?}/$mongo_id" "$state/secantusdb${mongo_id#mongo}" ;; *) rm -rf "${state:?}/$server" ;; esac
      done
    fi ;;
  status) status ;;
  env) print_env ;;
  *) echo "usage: $0 provision|up|down|reset|status|env [dev|test|bench|chaos] [kafka|mongo|redis …]" >&2; exit 2 ;;
esac
