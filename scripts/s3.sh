#!/usr/bin/env bash
# Local S3 server for az-evac: versitygw (Apache-2.0) with its posix backend, built from the
# Go module proxy into a cache outside git, one server holding one bucket per AZ.
#
#   scripts/s3.sh install                       build (idempotent), print the binary path
#   scripts/s3.sh start [--port P] [--root DIR] exec versitygw in the foreground
#   scripts/s3.sh stop [--pid-file F]           stop a server started with start-bg
#   scripts/s3.sh start-bg [--port P] [--root DIR] [--pid-file F]
#                                               start in the background, wait until it answers
#
# Environment:
#   AZ_EVAC_CACHE          cache root (default ~/.cache/az-evac); binary in <cache>/bin/versitygw-<ver>/
#   AZ_EVAC_STATE          state dir for the default posix root (default .az-evac)
#   AZ_EVAC_S3_ACCESS_KEY  root access key the server accepts (required for start)
#   AZ_EVAC_S3_SECRET_KEY  root secret key (required for start)
#
# The credentials come from the environment only (config/settings.ts reads the same variables);
# nothing here hard-codes them. A server started by the test setup gets per-run random ones.
set -euo pipefail

readonly VERSITYGW_VERSION="v1.8.0"
readonly CACHE_ROOT="${AZ_EVAC_CACHE:-$HOME/.cache/az-evac}"
readonly INSTALL_DIR="$CACHE_ROOT/bin/versitygw-$VERSITYGW_VERSION"
readonly BIN="$INSTALL_DIR/versitygw"

die() {
  echo "s3.sh: $*" >&2
  exit 1
}

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

install_server() {
  if [[ -x "$BIN" && -f "$INSTALL_DIR/.installed" ]]; then
    echo "$BIN"
    return 0
  fi
  if ! command -v go >/dev/null && [[ -x /usr/local/go/bin/go ]]; then PATH="$PATH:/usr/local/go/bin"; fi
  command -v go >/dev/null || die "go not found; install Go >= 1.25 (versitygw $VERSITYGW_VERSION needs it)"
  echo "s3.sh: building versitygw $VERSITYGW_VERSION into $INSTALL_DIR (a few minutes on 2 cores)" >&2
  # Build into a scratch dir and rename at the end: an interrupted build never leaves a
  # directory that looks complete.
  local staging="$INSTALL_DIR.partial.$$"
  rm -rf "$staging"
  mkdir -p "$staging"
  trap 'rm -rf "$staging"' EXIT
  GOBIN="$staging" GOFLAGS="-trimpath" go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >&2 \
    || die "go install github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION failed (is the Go module proxy reachable?)"
  "$staging/versitygw" --version >/dev/null 2>&1 || die "built binary $staging/versitygw does not run"
  rm -rf "$INSTALL_DIR"
  mv "$staging" "$INSTALL_DIR"
  trap - EXIT
  touch "$INSTALL_DIR/.installed"
  echo "$BIN"
}

parse_start_args() {
  PORT=7070
  ROOT="${AZ_EVAC_STATE:-.az-evac}/s3"
  PID_FILE="${AZ_EVAC_STATE:-.az-evac}/s3.pid"
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --port) PORT="${2:?--port needs a value}"; shift 2 ;;
      --root) ROOT="${2:?--root needs a value}"; shift 2 ;;
      --pid-file) PID_FILE="${2:?--pid-file needs a value}"; shift 2 ;;
      -h|--help) usage ;;
      *) die "unknown option: '$1' (expected --port P, --root DIR, --pid-file F)" ;;
    esac
  done
  [[ "$PORT" =~ ^[0-9]+$ ]] || die "--port must be a number, got '$PORT'"
  [[ -n "${AZ_EVAC_S3_ACCESS_KEY:-}" ]] || die "AZ_EVAC_S3_ACCESS_KEY is not set; export the access key the server should accept"
  [[ -n "${AZ_EVAC_S3_SECRET_KEY:-}" ]] || die "AZ_EVAC_S3_SECRET_KEY is not set; export the secret key the server should accept"
}

start_server() {
  parse_start_args "$@"
  local bin
  bin="$(install_server)"
  mkdir -p "$ROOT"
  # versitygw reads its root credentials from ROOT_ACCESS_KEY / ROOT_SECRET_KEY; passing them
  # through the environment keeps them out of `ps` output.
  ROOT_ACCESS_KEY="$AZ_EVAC_S3_ACCESS_KEY" ROOT_SECRET_KEY="$AZ_EVAC_S3_SECRET_KEY" \
    exec "$bin" --port "127.0.0.1:$PORT" --quiet posix "$ROOT"
}

start_background() {
  parse_start_args "$@"
  local bin
  bin="$(install_server)"
  mkdir -p "$ROOT" "$(dirname "$PID_FILE")"
  ROOT_ACCESS_KEY="$AZ_EVAC_S3_ACCESS_KEY" ROOT_SECRET_KEY="$AZ_EVAC_S3_SECRET_KEY" \
    nohup "$bin" --port "127.0.0.1:$PORT" --quiet posix "$ROOT" >"$ROOT.log" 2>&1 &
  echo $! >"$PID_FILE"
  local i
  for i in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      echo "s3.sh: versitygw on http://127.0.0.1:$PORT (pid $(cat "$PID_FILE"), root $ROOT)" >&2
      return 0
    fi
    kill -0 "$(cat "$PID_FILE")" 2>/dev/null || die "versitygw exited at start-up; see $ROOT.log"
    sleep 0.1
  done
  die "versitygw did not answer on port $PORT within 10 s; see $ROOT.log"
}

stop_server() {
  local pid_file="${AZ_EVAC_STATE:-.az-evac}/s3.pid"
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --pid-file) pid_file="${2:?--pid-file needs a value}"; shift 2 ;;
      *) die "unknown option for stop: '$1' (expected --pid-file F)" ;;
    esac
  done
  [[ -f "$pid_file" ]] || die "no pid file $pid_file: nothing started with start-bg to stop"
  local pid
  pid="$(cat "$pid_file")"
  if kill "$pid" 2>/dev/null; then
    echo "s3.sh: stopped versitygw pid $pid" >&2
  else
    echo "s3.sh: versitygw pid $pid was not running" >&2
  fi
  rm -f "$pid_file"
}

main() {
  [[ $# -ge 1 ]] || usage
  local cmd="$1"
  shift
  case "$cmd" in
    install) install_server ;;
    start) start_server "$@" ;;
    start-bg) start_background "$@" ;;
    stop) stop_server "$@" ;;
    -h|--help|help) usage ;;
    *) die "unknown command '$cmd' (expected install, start, start-bg or stop)" ;;
  esac
}

main "$@"
