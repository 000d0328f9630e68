#!/usr/bin/env bash
# The az-evac image's contents, built and started without Docker. The Dockerfile runs
# `scripts/image.sh build /stage` and copies /stage to /app; CI runs the same build into a
# staging dir and smoke-tests it, so what the image would contain is built and started here.
#
#   scripts/image.sh build [DIR]   npm run build, then stage into DIR (default .az-evac/image):
#                                  package.json + lock, production dependencies only
#                                  (npm ci --omit=dev), dist/ (with the workflow bundle),
#                                  tiers.yaml, bin/az-evac (runs dist/cli/main.js with node)
#   scripts/image.sh smoke [DIR]   start, from DIR and with DIR as working directory, the simulator,
#                                  the worker (node dist/worker/main.js) and the console
#                                  (bin/az-evac console) against a Temporal dev server on free
#                                  ports; pass when the worker's and the console's /healthz and
#                                  /readyz answer 200, `az-evac --help` runs, and on SIGTERM the
#                                  worker drains and exits 0 and the console exits 0
#
# Environment:
#   AZ_EVAC_SMOKE_TIMEOUT  seconds each process gets to become ready (default 120)
#
# Needs node and npm (the registry, or a warm npm cache, for the production dependencies) and
# the Temporal CLI (scripts/temporal.sh install); no Docker, no network beyond the registry.
set -euo pipefail

readonly REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
readonly TIMEOUT="${AZ_EVAC_SMOKE_TIMEOUT:-120}"

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

build() {
  local dir="$1"
  cd "$REPO_ROOT"
  npm run --silent build
  rm -rf "$dir"
  mkdir -p "$dir/bin"
  cp package.json package-lock.json tiers.yaml "$dir/"
  cp -R dist "$dir/dist"
  # The command of the image: the compiled CLI (worker, console and every CLI subcommand).
  cat >"$dir/bin/az-evac" <<'SH'
#!/bin/sh
# az-evac from the compiled build (scripts/image.sh): plain node, no tsx.
exec node "$(dirname "$(readlink -f "$0")")/../dist/cli/main.js" "$@"
SH
  chmod +x "$dir/bin/az-evac"
  # Production dependencies only, exactly as locked; no lifecycle scripts are needed (the
  # Temporal core bridge ships prebuilt per platform).
  (cd "$dir" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "image.sh: staged $(du -sh "$dir" | cut -f1) in $dir" >&2
}

# Free TCP port on 127.0.0.1.
free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_http NAME URL PID LOG: until URL answers 200 (TIMEOUT s); fails with LOG's tail when PID dies or time runs out.
wait_http() {
  local name="$1" url="$2" pid="$3" log="$4" deadline=$((SECONDS + TIMEOUT))
  until node -e 'fetch(process.argv[1]).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))' "$url"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$log" >&2
      die "$name exited before $url answered 200"
    fi
    if ((SECONDS > deadline)); then
      tail -n 30 "$log" >&2
      die "$name: $url did not answer 200 within ${TIMEOUT}s"
    fi
    sleep 0.5 # poll interval of the condition above, not a wait standing for it
  done
  echo "image.sh: $name $url 200" >&2
}

# stop_expect NAME PID CODE: SIGTERM PID and require exit code CODE within TIMEOUT s.
stop_expect() {
  local name="$1" pid="$2" want="$3" rc=0
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  [[ "$rc" == "$want" ]] || die "$name exited $rc on SIGTERM, expected $want"
  echo "image.sh: $name exited $rc on SIGTERM" >&2
}

# Processes the smoke started (SIGTERMed at exit, so the CLI passes it on to the simulator it
# spawned; SIGKILLed after 10 s) and its scratch dir.
pids=()
work=""
cleanup() {
  local p deadline=$((SECONDS + 10))
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    while kill -0 "$p" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done # poll interval
    kill -KILL "$p" 2>/dev/null || true
  done
  [[ -z "$work" ]] || rm -rf "$work"
}

smoke() {
  local dir
  dir="$(cd "$1" 2>/dev/null && pwd)" || die "no staged image at $1. Fix: scripts/image.sh build $1"
  [[ -f "$dir/dist/workflow-bundle.js" ]] || die "$dir/dist/workflow-bundle.js is missing. Fix: scripts/image.sh build $1"
  [[ ! -e "$dir/node_modules/vitest" && ! -e "$dir/node_modules/typescript" ]] || die "$dir has dev dependencies (vitest/typescript); the image ships production ones only"
  [[ -z "$(find "$dir/dist" -name '*.ts' -not -name '*.d.ts' -print -quit)" ]] || die "$dir/dist holds .ts sources; the image runs compiled JavaScript only"
  work="$(mktemp -d)"
  pids=()
  trap cleanup EXIT

  local temporal tport sport hport cport
  temporal="$(bash "$REPO_ROOT/scripts/temporal.sh" path)"
  tport="$(free_port)"
  bash "$REPO_ROOT/scripts/temporal.sh" start --port "$tport" --ui-port "$(free_port)" --db "$work/temporal.sqlite" --headless >"$work/temporal.log" 2>&1 &
  pids+=($!)
  local deadline=$((SECONDS + TIMEOUT))
  until "$temporal" operator cluster health --address "127.0.0.1:$tport" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { tail -n 30 "$work/temporal.log" >&2; die "Temporal dev server not healthy within ${TIMEOUT}s"; }
    sleep 0.5 # poll interval
  done

  # Everything below runs from the staged dir, as in the image (WORKDIR /app).
  cd "$dir"
  export AZ_EVAC_TEMPORAL_ADDRESS="127.0.0.1:$tport" AZ_EVAC_STATE="$work/state" AZ_EVAC_TASK_QUEUE="smoke-$$"
  sport="$(free_port)"
  ./bin/az-evac simulator --port "$sport" --time-scale 10 --seed 1 >"$work/simulator.log" 2>&1 &
  pids+=($!)
  local spid=$!
  wait_http simulator "http://127.0.0.1:$sport/control/clock" "$spid" "$work/simulator.log"
  export AZ_EVAC_SIMULATOR_URL="http://127.0.0.1:$sport"

  hport="$(free_port)"
  AZ_EVAC_WORKER_HEALTH_PORT="$hport" AZ_EVAC_CATALOG_SYNC_INTERVAL=0 node dist/worker/main.js >"$work/worker.log" 2>&1 &
  pids+=($!)
  local wpid=$!
  wait_http worker "http://127.0.0.1:$hport/healthz" "$wpid" "$work/worker.log"
  wait_http worker "http://127.0.0.1:$hport/readyz" "$wpid" "$work/worker.log"

  cport="$(free_port)"
  AZ_EVAC_CONSOLE_TOKENS="smoke:viewer:$(node -e 'console.log(require("crypto").randomBytes(18).toString("hex"))')" \
    ./bin/az-evac console --port "$cport" >"$work/console.log" 2>&1 &
  pids+=($!)
  local cpid=$!
  wait_http console "http://127.0.0.1:$cport/healthz" "$cpid" "$work/console.log"
  wait_http console "http://127.0.0.1:$cport/readyz" "$cpid" "$work/console.log"

  ./bin/az-evac --help >"$work/help.txt" || die "az-evac --help failed: $(cat "$work/help.txt")"
  grep -q '^Usage: az-evac' "$work/help.txt" || die "az-evac --help printed no usage: $(head -n 5 "$work/help.txt")"
  echo "image.sh: az-evac --help runs" >&2

  stop_expect worker "$wpid" 0
  grep -q 'drained, exiting' "$work/worker.log" || die "the worker exited without draining: $(tail -n 10 "$work/worker.log")"
  stop_expect console "$cpid" 0
  echo "image.sh: smoke passed ($dir)" >&2
}

case "${1:-}" in
  build) build "$(realpath -m "${2:-$REPO_ROOT/.az-evac/image}")" ;;
  smoke) smoke "${2:-$REPO_ROOT/.az-evac/image}" ;;
  *) usage ;;
esac
