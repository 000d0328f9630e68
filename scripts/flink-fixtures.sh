#!/usr/bin/env bash
# Real Flink snapshot fixtures: builds scripts/flink-fixtures/ (a tiny keyed job: RocksDB
# incremental checkpoints retained on cancellation, one canonical and one native savepoint)
# against each Flink line from Maven Central and runs it in a local MiniCluster (Java 17, mvn).
#
#   scripts/flink-fixtures.sh [--out DIR] [--versions "1.19.3 1.20.3 2.0.1 2.1.1"] [--update]
#
#   --out DIR       write DIR/<version>/{checkpoints,savepoints,fixture.json}; default: a new
#                   temporary directory (printed on the last line)
#   --versions V    space-separated Flink versions (default: 1.19.3 1.20.3 2.0.1 2.1.1)
#   --update        also replace test/fixtures/flink/<version>/ with the fresh output (to commit)
#
# Environment:
#   AZ_EVAC_CACHE   cache root (default ~/.cache/az-evac); Maven build output goes to
#                   <cache>/flink-fixtures/, dependencies to Maven's own ~/.m2
#
# Prints the seconds each version took (Maven build + run) and the total. The fresh output is
# checked by: AZ_EVAC_FLINK_FIXTURES_DIR=<out> npx vitest run test/unit/flink-metadata.test.ts
# (Flink's output is not byte-stable; the test compares what is read, not bytes).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root="$(cd "$(dirname "$0")/.." && pwd)"
project="$root/scripts/flink-fixtures"
out=""
versions="1.19.3 1.20.3 2.0.1 2.1.1"
update=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    --versions) versions="${2:?--versions needs a list}"; shift 2 ;;
    --update) update=1; shift ;;
    -h|--help) usage ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
command -v mvn >/dev/null || die "mvn not found: install Maven (Debian: apt-get install maven)"
command -v java >/dev/null || die "java not found: install Java 17 (Debian: apt-get install openjdk-17-jdk-headless)"
[[ -n "$out" ]] || out="$(mktemp -d -t az-evac-flink-fixtures.XXXXXX)"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
build="${AZ_EVAC_CACHE:-$HOME/.cache/az-evac}/flink-fixtures"

total_start=$SECONDS
for v in $versions; do
  start=$SECONDS
  log="$out/$v.log"
  rm -rf "${out:?}/$v"
  class="$build/$v/classes/io/azevac/fixtures/SnapshotFixtures.class"
  if [[ -f "$class" && -f "$build/$v/classpath.txt" && "$class" -nt "$project/pom.xml" \
        && "$class" -nt "$project/src/main/java/io/azevac/fixtures/SnapshotFixtures.java" ]]; then
    : >"$log" # built before from the same sources: reuse
  elif ! mvn -B -q -f "$project/pom.xml" -Dflink.version="$v" -Dfixtures.build="$build" \
      compile dependency:build-classpath -Dmdep.outputFile="$build/$v/classpath.txt" >"$log" 2>&1; then
    cat "$log" >&2
    die "Maven build for Flink $v failed (log above, also in $log)"
  fi
  built=$((SECONDS - start))
  # 300 s bound: the job itself gives up after 120 s without a checkpoint.
  if ! timeout 300 java -Xmx512m -cp "$build/$v/classes:$(cat "$build/$v/classpath.txt")" \
      io.azevac.fixtures.SnapshotFixtures "$out/$v" >>"$log" 2>&1; then
    tail -40 "$log" >&2
    die "the fixture job on Flink $v failed (log tail above, all in $log)"
  fi
  echo "flink $v: $((SECONDS - start))s (maven ${built}s, job $((SECONDS - start - built))s) -> $out/$v"
  if [[ $update == 1 ]]; then
    dest="$root/test/fixtures/flink/$v"
    rm -rf "$dest"
    mkdir -p "$dest"
    cp -r "$out/$v/checkpoints" "$out/$v/savepoints" "$out/$v/fixture.json" "$dest/"
    echo "flink $v: fixtures replaced in ${dest#"$root"/}"
  fi
done
echo "total: $((SECONDS - total_start))s"
echo "$out"
