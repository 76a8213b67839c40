#!/usr/bin/env bash
# Interleaved A/B of two builds of the streams module on this harness (see README.md):
#   bench/streams/ab.sh REPEATS A.jar B.jar [benchmark options...]
# runs the benchmark REPEATS times with each streams jar in turn (A, B, A, B, ...), each in a fresh JVM with a
# fresh broker, and prints each run's result lines. The harness and every other jar are this tree's build
# (BENCH_NO_BUILD=1 skips building it); build the other side's jar in a scratch clone, e.g.
#   git clone -q . /tmp/main && (cd /tmp/main && git checkout -q main && ./mvnw -B -q -pl streams -am package -DskipTests)
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: bench/streams/ab.sh REPEATS A.jar B.jar [benchmark options...]" >&2; exit 2; }
repeats=$1; a=$2; b=$3; shift 3
for jar in "$a" "$b"; do
    [ -f "$jar" ] || { echo "ab.sh: no such jar: $jar" >&2; exit 2; }
done
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    ./mvnw -B -q -P bench -pl bench/streams -am package -DskipTests dependency:build-classpath \
        -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=runtime
fi
own="$root/streams/target/sgdscope-streams-0.1.0-SNAPSHOT.jar"
classpath="$(cat bench/streams/target/classpath.txt)"
for i in $(seq 1 "$repeats"); do
    for jar in "$a" "$b"; do
        work="$(mktemp -d /tmp/sgdscope-bench-XXXXXX)"
        log="$work.log"
        java ${BENCH_JAVA_OPTS:-} -Xmx${BENCH_HEAP:-3g} -cp "bench/streams/target/classes:${classpath//$own/$jar}" \
            io.sgdscope.bench.streams.StreamsBenchmark --work "$work" "$@" > "$log" 2>&1 || { cat "$log" >&2; exit 1; }
        rm -rf "$work"
        echo "repeat $i, $jar, load $(cut -d' ' -f1-3 /proc/loadavg):"
        grep -E "^(quantiles|deviation|both|consumer)" "$log" | sed 's/^/  /'
        rm -f "$log"
    done
done
