#!/usr/bin/env bash
# Helm for the chart checks: built from the Go module proxy into the cache (no internet here,
# only package registries), reused when present.
#
#   scripts/helm.sh install      build helm, or reuse the cache; print the binary's path
#   scripts/helm.sh path         print the binary's path (builds if missing)
#   scripts/helm.sh check        helm lint + helm template of deploy/helm/az-evac (default and
#                                every-option values); rendered manifests in .az-evac/helm/
#
# Environment:
#   AZ_EVAC_CACHE  cache root (default ~/.cache/az-evac); helm lands in <cache>/bin/helm-<version>/helm
#
# Version: helm.sh/helm/v4 v4.3.2 (the Go module proxy's newest approved release here; v4 keeps
# `helm lint` and `helm template` as in v3).
set -euo pipefail

readonly HELM_MODULE="helm.sh/helm/v4"
readonly HELM_VERSION="v4.3.2"
readonly REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
readonly CACHE_ROOT="${AZ_EVAC_CACHE:-$HOME/.cache/az-evac}"
readonly HELM_DIR="$CACHE_ROOT/bin/helm-$HELM_VERSION"
readonly CHART="$REPO_ROOT/deploy/helm/az-evac"

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

install() {
  if [[ -x "$HELM_DIR/helm" ]]; then
    echo "$HELM_DIR/helm"
    return
  fi
  command -v go >/dev/null || die "go is not on PATH; helm is built from the Go module proxy. Fix: install Go (https://go.dev/dl/) and retry"
  echo "helm.sh: building $HELM_MODULE/cmd/helm@$HELM_VERSION into $HELM_DIR (a few minutes on a cold module cache)" >&2
  mkdir -p "$HELM_DIR.tmp"
  # Builds outside any module (cd /) so the repo's files play no part; CGO off for a static binary.
  (cd / && CGO_ENABLED=0 GOBIN="$HELM_DIR.tmp" GOFLAGS=-mod=mod go install "$HELM_MODULE/cmd/helm@$HELM_VERSION") \
    || die "go install $HELM_MODULE/cmd/helm@$HELM_VERSION failed (see above). Fix: check that the Go module proxy answers (go env GOPROXY)"
  rm -rf "$HELM_DIR"
  mv "$HELM_DIR.tmp" "$HELM_DIR"
  echo "$HELM_DIR/helm"
}

check() {
  local helm out
  helm="$(install)"
  out="$REPO_ROOT/.az-evac/helm"
  mkdir -p "$out"
  "$helm" lint --strict "$CHART"
  "$helm" lint --strict "$CHART" -f "$CHART/ci/all-options-values.yaml"
  "$helm" template az-evac "$CHART" --namespace az-evac >"$out/default.yaml"
  "$helm" template az-evac "$CHART" --namespace az-evac -f "$CHART/ci/all-options-values.yaml" >"$out/all-options.yaml"
  "$helm" template az-evac "$CHART" --namespace az-evac --show-only templates/az-cluster-rbac.yaml \
    --set azClusterRbac.enabled=true,worker.enabled=false,console.enabled=false >"$out/az-cluster-rbac.yaml"
  echo "helm.sh: chart lints and renders; manifests in $out" >&2
}

case "${1:-}" in
  install | path) install ;;
  check) check ;;
  *) usage ;;
esac
