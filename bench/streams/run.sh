#!/usr/bin/env bash
# Builds this harness and the modules it needs, then runs the streams benchmark (see README.md).
# Usage: bench/streams/run.sh [--runs 10000] [--iterations 400] [--phases fill,consumer,...] [...]
#        (from anywhere; a fresh clone is enough: the Maven wrapper builds everything in one reactor)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
# The parent's profile "bench" adds this harness to the reactor; -am builds the streams module and the
# rest it needs, so nothing has to be installed in the local Maven repository first.
# BENCH_NO_BUILD=1 skips the build (repeated runs of a build made just before).
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    ./mvnw -B -q -P bench -pl bench/streams -am package -DskipTests dependency:build-classpath \
        -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=runtime
fi
work="${BENCH_WORK:-$(mktemp -d /tmp/sgdscope-bench-XXXXXX)}"
echo "work folder: $work (broker data and state stores; removed at the end unless BENCH_KEEP=1)"
trap '[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$work"' EXIT
java ${BENCH_JAVA_OPTS:-} -Xmx${BENCH_HEAP:-3g} -cp "bench/streams/target/classes:$(cat bench/streams/target/classpath.txt)" \
    io.sgdscope.bench.streams.StreamsBenchmark --work "$work" "$@"
