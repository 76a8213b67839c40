#!/usr/bin/env bash
# Builds the streams module and this harness, then runs the streams benchmark (see README.md).
# Usage: bench/streams/run.sh [--runs 10000] [--iterations 400] [--phases fill,consumer,...] [...]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
./mvnw -B -o -q -pl streams install -DskipTests
./mvnw -B -o -q -f bench/streams/pom.xml package dependency:build-classpath \
    -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=runtime
work="${BENCH_WORK:-$(mktemp -d /tmp/sgdscope-bench-XXXXXX)}"
echo "work folder: $work (broker data and state stores; removed at the end unless BENCH_KEEP=1)"
trap '[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$work"' EXIT
java ${BENCH_JAVA_OPTS:-} -Xmx${BENCH_HEAP:-3g} -cp "bench/streams/target/classes:$(cat bench/streams/target/classpath.txt)" \
    io.sgdscope.bench.streams.StreamsBenchmark --work "$work" "$@"
