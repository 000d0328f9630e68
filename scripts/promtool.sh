#!/usr/bin/env bash
# promtool (Prometheus's rule checker) for the alert rules and the dashboard's queries: built
# from the Go module proxy into the cache (no internet here, only package registries), reused
# when present.
#
#   scripts/promtool.sh install   build promtool, or reuse the cache; print the binary's path
#   scripts/promtool.sh path      print the binary's path (builds if missing)
#   scripts/promtool.sh check     promtool check rules + test rules of deploy/prometheus, and a
#                                 check of every PromQL query of deploy/grafana's dashboard
#                                 (written as a rules file into .az-evac/promtool/)
#
# Environment:
#   AZ_EVAC_CACHE  cache root (default ~/.cache/az-evac); promtool lands in <cache>/bin/promtool-<version>/promtool
#
# Version: github.com/prometheus/prometheus v0.316.0 (Prometheus 3.16; the Go module proxy's
# newest approved release here). Cold build time: docs/operating.md#metrics-and-alerts.
set -euo pipefail

readonly PROM_MODULE="github.com/prometheus/prometheus"
readonly PROM_VERSION="v0.316.0"
readonly REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
readonly CACHE_ROOT="${AZ_EVAC_CACHE:-$HOME/.cache/az-evac}"
readonly PROMTOOL_DIR="$CACHE_ROOT/bin/promtool-$PROM_VERSION"

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

install() {
  if [[ -x "$PROMTOOL_DIR/promtool" ]]; then
    echo "$PROMTOOL_DIR/promtool"
    return
  fi
  command -v go >/dev/null || die "go is not on PATH; promtool is built from the Go module proxy. Fix: install Go (https://go.dev/dl/) and retry"
  echo "promtool.sh: building $PROM_MODULE/cmd/promtool@$PROM_VERSION into $PROMTOOL_DIR (minutes on a cold module cache)" >&2
  rm -rf "$PROMTOOL_DIR.tmp"
  mkdir -p "$PROMTOOL_DIR.tmp"
  # Builds outside any module (cd /) so the repo's files play no part; CGO off for a static binary.
  (cd / && CGO_ENABLED=0 GOBIN="$PROMTOOL_DIR.tmp" GOFLAGS=-mod=mod go install "$PROM_MODULE/cmd/promtool@$PROM_VERSION") \
    || die "go install $PROM_MODULE/cmd/promtool@$PROM_VERSION failed (see above). Fix: check that the Go module proxy answers (go env GOPROXY)"
  rm -rf "$PROMTOOL_DIR"
  mv "$PROMTOOL_DIR.tmp" "$PROMTOOL_DIR"
  echo "$PROMTOOL_DIR/promtool"
}

check() {
  local promtool out
  promtool="$(install)"
  out="$REPO_ROOT/.az-evac/promtool"
  mkdir -p "$out"
  "$promtool" check rules "$REPO_ROOT/deploy/prometheus/az-evac-alerts.yaml"
  # Rule unit tests: rule_files in the test file are relative to it.
  "$promtool" test rules "$REPO_ROOT/deploy/prometheus/az-evac-alerts.test.yaml"
  # promtool has no dashboard checker: each panel query becomes a recording rule, which
  # `check rules` parses as PromQL. Grafana's $__range and $__rate_interval are set to 1h first.
  node "$REPO_ROOT/scripts/dashboard-rules.mjs" "$REPO_ROOT/deploy/grafana/az-evac-dashboard.json" >"$out/dashboard-rules.yaml"
  "$promtool" check rules "$out/dashboard-rules.yaml"
  echo "promtool.sh: alert rules, their unit tests and the dashboard's queries pass" >&2
}

case "${1:-}" in
  install | path) install ;;
  check) check ;;
  *) usage ;;
esac
