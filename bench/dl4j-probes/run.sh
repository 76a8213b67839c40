#!/usr/bin/env bash
# The cost of the DL4J curvature probes on an MNIST-sized net (bench/dl4j-probes/README.md).
# Usage: bench/dl4j-probes/run.sh [repeats] [probe examples] [k]   (defaults 3, 256, 15; from anywhere; builds
#        the dl4j module and what it needs with the Maven wrapper, nothing installed)
#   bench/dl4j-probes/run.sh 1 16 2     a tiny run that only checks the script works (bench/smoke.sh); its
#                                       timings mean nothing
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
repeats="${1:-3}"
samples="${2:-256}"
topk="${3:-15}"
# libgomp's spinning slows ND4J 2-10x on a shared 2-core machine (docs/pitfalls.md).
export OMP_WAIT_POLICY=PASSIVE

cd "$top"
./mvnw -B -q -pl dl4j -am package -DskipTests \
    dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt
cp="$top/dl4j/target/classes:$(cat "$top/dl4j/target/bench-classpath.txt")"
echo "== commit $(git -C "$top" rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$here/target"
java -Xmx3g -cp "$cp" "$here/ProbeBench.java" "$repeats" "$samples" "$topk" 2>"$here/target/stderr.log" || { tail -n 20 "$here/target/stderr.log" >&2; exit 1; }
