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
