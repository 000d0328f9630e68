#!/usr/bin/env bash
# A production-shaped Temporal service for az-evac's slow test (not the dev server): the
# Temporal server built from the Go module proxy, PostgreSQL from Debian for persistence and
# SQL visibility (postgres12 plugin), TLS on the frontend (a self-signed CA made with openssl),
# 4 history shards, schema applied by temporal-sql-tool.
#
#   scripts/temporal-server.sh install          build temporal-server and temporal-sql-tool into the
#                                               cache (or reuse it), install PostgreSQL if missing;
#                                               print the bin dir
#   scripts/temporal-server.sh start DIR        start PostgreSQL and the server with their state in DIR
#                                               (free loopback ports), create namespace `default`;
#                                               prints the `export TEMPORAL_*=...` lines to reach it
#   scripts/temporal-server.sh stop DIR         stop both (state stays in DIR)
#   scripts/temporal-server.sh env DIR          print the export lines again
#
# Environment:
#   AZ_EVAC_CACHE   cache root (default ~/.cache/az-evac); binaries land in
#                   <cache>/temporal-server-<version>/bin/
#
# Why v1.32.1: the newest go.temporal.io/server whose go.mod accepts the machine's Go 1.26.8
# (v1.32.2 requires go >= 1.26.10, and no toolchain download is possible here). Docs:
# https://docs.temporal.io/self-hosted-guide (deployment, TLS, visibility), the release's
# config/development-postgres12.yaml and docker/auto-setup.sh (schema steps).
set -euo pipefail

readonly SERVER_VERSION="v1.32.1"
readonly HISTORY_SHARDS=4
readonly CACHE_ROOT="${AZ_EVAC_CACHE:-$HOME/.cache/az-evac}"
readonly INSTALL_DIR="$CACHE_ROOT/temporal-server-$SERVER_VERSION"
readonly REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
readonly DB_USER=temporal

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

# Directory of PostgreSQL's server binaries (initdb, pg_ctl), or nothing.
pg_bin_dir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

install_postgres() {
  pg_bin_dir >/dev/null && return 0
  [[ "$(id -u)" == 0 ]] || die "PostgreSQL is not installed and this is not root. Fix: apt-get install postgresql (as root)"
  echo "temporal-server.sh: installing PostgreSQL from Debian (apt-get install postgresql)" >&2
  apt-get install -y -q postgresql >&2 || { apt-get update -q >&2 && apt-get install -y -q postgresql >&2; } \
    || die "apt-get install postgresql failed (are Debian's package mirrors reachable?)"
  pg_bin_dir >/dev/null || die "postgresql installed but no initdb/pg_ctl under /usr/lib/postgresql/*/bin"
}

build_server() {
  if [[ -x "$INSTALL_DIR/bin/temporal-server" && -x "$INSTALL_DIR/bin/temporal-sql-tool" && -f "$INSTALL_DIR/.installed" ]]; then
    return 0
  fi
  command -v go >/dev/null || die "go not found; install Go >= 1.26.8 (go.temporal.io/server@$SERVER_VERSION requires it)"
  echo "temporal-server.sh: building go.temporal.io/server@$SERVER_VERSION (cold: ~10-40 min on a busy 2-core machine)" >&2
  local start=$SECONDS staging="$INSTALL_DIR.partial.$$"
  rm -rf "$staging"
  trap 'rm -rf "$staging"' EXIT
  mkdir -p "$staging/bin"
  # The release's go.mod has no replace directives, so `go install pkg@version` builds it as
  # released (module graph and go.sum from the release).
  GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0 GOBIN="$staging/bin" \
    go install -trimpath -ldflags='-s -w' \
    "go.temporal.io/server/cmd/server@$SERVER_VERSION" "go.temporal.io/server/cmd/tools/sql@$SERVER_VERSION" >&2 \
    || die "go install go.temporal.io/server@$SERVER_VERSION failed (see the go output above)"
  mv "$staging/bin/server" "$staging/bin/temporal-server"
  mv "$staging/bin/sql" "$staging/bin/temporal-sql-tool"
  "$staging/bin/temporal-server" --version >/dev/null || die "built temporal-server does not run"
  rm -rf "$INSTALL_DIR"
  mkdir -p "$(dirname "$INSTALL_DIR")"
  mv "$staging" "$INSTALL_DIR"
  trap - EXIT
  echo "go.temporal.io/server $SERVER_VERSION built in $((SECONDS - start)) s on $(date -u +%FT%TZ)" >"$INSTALL_DIR/.installed"
  echo "temporal-server.sh: built in $((SECONDS - start)) s" >&2
}

install_all() {
  build_server
  install_postgres
  echo "$INSTALL_DIR/bin"
}

# A free TCP port on 127.0.0.1 in 20000-32767: Temporal stores membership ports in a SQL
# smallint (a port from the OS's ephemeral range, 32768+, fails the server's start with
# "value ... is out of range for type smallint").
free_port() {
  python3 -c '
import random, socket
for _ in range(200):
    p = random.randrange(20000, 32768)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
else:
    raise SystemExit("no free port in 20000-32767")
'
}

# Run a PostgreSQL command as the `postgres` user when this is root (PostgreSQL refuses root).
as_pg() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

make_tls() {
  local tls="$1"
  mkdir -p "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=az-evac test CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$tls/ext.cnf"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 2 -extfile "$tls/ext.cnf" -out "$tls/server.pem" 2>/dev/null
  chmod 600 "$tls/ca.key" "$tls/server.key"
}

start_postgres() {
  local dir="$1" port="$2" pg
  pg="$(pg_bin_dir)" || die "PostgreSQL is not installed. Fix: scripts/temporal-server.sh install"
  mkdir -p "$dir/pg"
  head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/pg-password"
  if [[ "$(id -u)" == 0 ]]; then
    chmod 755 "$dir"
    chown postgres "$dir/pg" "$dir/pg-password"
  fi
  as_pg "$pg/initdb" -D "$dir/pg/data" -U "$DB_USER" --pwfile="$dir/pg-password" \
    --auth-host=scram-sha-256 --auth-local=trust -E UTF8 >"$dir/pg/initdb.log" 2>&1 \
    || die "initdb failed: $(tail -5 "$dir/pg/initdb.log")"
  as_pg "$pg/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir/pg -c max_connections=200 -c fsync=on" \
    start >/dev/null || die "PostgreSQL did not start: $(tail -5 "$dir/pg/postgres.log")"
}

sql_tool() {
  local dir="$1" port="$2" db="$3"
  shift 3
  SQL_PASSWORD="$(cat "$dir/pg-password")" "$INSTALL_DIR/bin/temporal-sql-tool" --plugin postgres12 \
    --endpoint 127.0.0.1 --port "$port" --user "$DB_USER" --database "$db" "$@"
}

write_config() {
  local dir="$1" pg_port="$2" fe="$3" password
  password="$(cat "$dir/pg-password")"
  local p=() i
  for i in 1 2 3 4 5 6 7; do p+=("$(free_port)"); done
  cat >"$dir/dynamicconfig.yaml" <<EOF
# Throughput limits as scripts/temporal.sh gives the dev server: an evacuation fans out
# hundreds of child workflows and activities at once.
frontend.rps:
  - value: 20000
frontend.namespaceRPS:
  - value: 20000
frontend.namespaceCount:
  - value: 2000
history.rps:
  - value: 20000
matching.rps:
  - value: 20000
EOF
  cat >"$dir/config.yaml" <<EOF
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: $HISTORY_SHARDS
  datastores:
    postgres-default:
      sql:
        pluginName: postgres12
        databaseName: temporal
        connectAddr: "127.0.0.1:$pg_port"
        connectProtocol: tcp
        user: $DB_USER
        password: "$password"
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
    postgres-visibility:
      sql:
        pluginName: postgres12
        databaseName: temporal_visibility
        connectAddr: "127.0.0.1:$pg_port"
        connectProtocol: tcp
        user: $DB_USER
        password: "$password"
        maxConns: 10
        maxIdleConns: 10
        maxConnLifetime: 1h
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
  tls:
    frontend:
      server:
        certFile: $dir/tls/server.pem
        keyFile: $dir/tls/server.key
        requireClientAuth: false
      client:
        serverName: localhost
        rootCaFiles: [$dir/tls/ca.pem]
    systemWorker:
      client:
        serverName: localhost
        rootCaFiles: [$dir/tls/ca.pem]
services:
  frontend:
    rpc: { grpcPort: $fe, membershipPort: ${p[0]}, bindOnLocalHost: true }
  history:
    rpc: { grpcPort: ${p[1]}, membershipPort: ${p[2]}, bindOnLocalHost: true }
  matching:
    rpc: { grpcPort: ${p[3]}, membershipPort: ${p[4]}, bindOnLocalHost: true }
  worker:
    rpc: { grpcPort: ${p[5]}, membershipPort: ${p[6]}, bindOnLocalHost: true }
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "localhost:$fe"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: $dir/dynamicconfig.yaml
  pollInterval: 10s
EOF
  chmod 600 "$dir/config.yaml"
}

env_lines() {
  local dir="$1"
  [[ -f "$dir/frontend-port" ]] || die "no server state in $dir (start it first)"
  echo "export TEMPORAL_ADDRESS=127.0.0.1:$(cat "$dir/frontend-port")"
  echo "export TEMPORAL_NAMESPACE=default"
  echo "export TEMPORAL_TLS_SERVER_CA_CERT_PATH=$dir/tls/ca.pem"
  echo "export TEMPORAL_TLS_SERVER_NAME=localhost"
}

# The Temporal CLI (scripts/temporal.sh) against the TLS frontend.
temporal_cli() {
  local dir="$1"
  shift
  "$(bash "$REPO_ROOT/scripts/temporal.sh" path)" "$@" --address "127.0.0.1:$(cat "$dir/frontend-port")" \
    --tls-ca-path "$dir/tls/ca.pem" --tls-server-name localhost
}

start_all() {
  local dir="${1:?start needs a state DIR}"
  dir="$(realpath -m "$dir")"
  [[ ! -f "$dir/server.pid" ]] || ! kill -0 "$(cat "$dir/server.pid")" 2>/dev/null || die "a server is already running from $dir (pid $(cat "$dir/server.pid")); stop it first"
  install_all >/dev/null
  mkdir -p "$dir"
  local pg_port fe t0=$SECONDS
  pg_port="$(free_port)"
  fe="$(free_port)"
  echo "$pg_port" >"$dir/pg-port"
  echo "$fe" >"$dir/frontend-port"
  make_tls "$dir/tls"
  start_postgres "$dir" "$pg_port"
  local db schema
  for db in temporal temporal_visibility; do
    schema=temporal
    [[ "$db" == temporal ]] || schema=visibility
    {
      sql_tool "$dir" "$pg_port" "$db" create-database
      sql_tool "$dir" "$pg_port" "$db" setup-schema -v 0.0
      sql_tool "$dir" "$pg_port" "$db" update-schema --schema-name "postgresql/v12/$schema"
    } >>"$dir/schema.log" 2>&1 || die "schema setup of $db failed: $(tail -5 "$dir/schema.log")"
  done
  write_config "$dir" "$pg_port" "$fe"
  setsid "$INSTALL_DIR/bin/temporal-server" --config-file "$dir/config.yaml" --allow-no-auth start \
    >"$dir/server.log" 2>&1 </dev/null &
  echo $! >"$dir/server.pid"
  # Ready when the TLS frontend serves the system namespace; then create `default` (the
  # server does not; docker/auto-setup.sh does the same).
  local deadline=$((SECONDS + 120))
  until temporal_cli "$dir" operator namespace describe --namespace temporal-system >/dev/null 2>&1; do
    kill -0 "$(cat "$dir/server.pid")" 2>/dev/null || die "temporal-server exited: $(tail -20 "$dir/server.log")"
    ((SECONDS < deadline)) || die "temporal-server not ready after 120 s: $(tail -20 "$dir/server.log")"
    sleep 0.5
  done
  temporal_cli "$dir" operator namespace create --namespace default --retention 24h >/dev/null 2>&1 || true
  until temporal_cli "$dir" operator namespace describe --namespace default >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "namespace default not served after 120 s: $(tail -20 "$dir/server.log")"
    sleep 0.5
  done
  echo "temporal-server.sh: PostgreSQL on 127.0.0.1:$pg_port, Temporal $SERVER_VERSION (TLS) on 127.0.0.1:$fe, ready in $((SECONDS - t0)) s; state in $dir" >&2
  env_lines "$dir"
}

stop_all() {
  local dir="${1:?stop needs a state DIR}" pid pg
  dir="$(realpath -m "$dir")"
  if [[ -f "$dir/server.pid" ]]; then
    pid="$(cat "$dir/server.pid")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      local deadline=$((SECONDS + 20))
      while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/server.pid"
  fi
  if [[ -f "$dir/pg/data/postmaster.pid" ]] && pg="$(pg_bin_dir)"; then
    as_pg "$pg/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null || true
  fi
}

main() {
  [[ $# -ge 1 ]] || usage
  local cmd="$1"
  shift
  case "$cmd" in
    install | path) install_all ;;
    start) start_all "$@" ;;
    stop) stop_all "$@" ;;
    env) env_lines "$(realpath -m "${1:?env needs a state DIR}")" ;;
    -h | --help | help) usage ;;
    *) die "unknown command '$cmd' (expected install, start, stop or env)" ;;
  esac
}

main "$@"
