#!/usr/bin/env bash
# The Python client's overhead benchmark (bench/pytorch-client/README.md): a plain PyTorch SGD loop on the
# mnist-mlp3 net against the same loop publishing every iteration through the sgdscope client to a real broker.
# Usage: bench/pytorch-client/run.sh [ITERATIONS]      (default 2000 per process; from anywhere)
#   REPEATS=3 (default): plain and publish processes interleaved REPEATS times; medians reported.
#   REPEATS=1 bench/pytorch-client/run.sh 100           (tiny: only checks the script works, as bench/smoke.sh does)
# Needs a JDK (the broker: bench/ensemble/BenchBroker.java, an embedded KRaft broker in a process of its own) and
# /usr/bin/python3 with torch, confluent_kafka, avro (Debian: python3-torch, python3-confluent-kafka, python3-avro).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
fail() { echo "bench/pytorch-client/run.sh: $*" >&2; exit 2; }
[ $# -le 1 ] || fail "takes one argument, the iterations per process (got $#: $*)"
iterations="${1:-2000}"
repeats="${REPEATS:-3}"
[[ "$iterations" =~ ^[1-9][0-9]*$ ]] || fail "ITERATIONS must be a positive whole number, got '$iterations'"
[[ "$repeats" =~ ^[1-9][0-9]*$ ]] || fail "REPEATS must be a positive whole number, got '$repeats'"
/usr/bin/python3 -c 'import torch, confluent_kafka, avro' 2>/dev/null \
    || fail "needs /usr/bin/python3 with torch, confluent_kafka and avro (Debian: python3-torch python3-confluent-kafka python3-avro)"

work="$here/target"
mkdir -p "$work"
cd "$top"
# The broker's classes, built in one reactor (nothing installed), as bench/ensemble/run.sh builds them.
./mvnw -B -q -pl schemas,embedded-kafka -am package -DskipTests \
    dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt
cp="$top/embedded-kafka/target/classes:$top/schemas/target/classes:$(cat "$top/embedded-kafka/target/bench-classpath.txt"):$(cat "$top/schemas/target/bench-classpath.txt")"
javac -d "$work/bench-classes" -cp "$cp" "$top/bench/ensemble/BenchBroker.java"
# PyTorch calls the OpenBLAS ND4J ships (Debian's torch otherwise uses the reference BLAS), as the other peers do.
blas="$top/bench/ensemble/target/openblas"
[ -e "$blas/libblas.so.3" ] || "$top/bench/openblas.sh" "$blas"
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 PYTHONPATH="$top/clients/python/src"
export LD_LIBRARY_PATH="$blas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

. "$top/bench/lib/broker.sh"
trap stop_broker EXIT
start_broker "$work" "$cp" 240 || fail "the broker did not start: $work/broker.log"
echo "== broker $bootstrap (bench/ensemble/BenchBroker.java, a process of its own)"

results="$work/results-$iterations.txt"
: > "$results"
for rep in $(seq 1 "$repeats"); do                    # interleaved, so that drifts of the machine hit both sides
  for mode in plain publish; do
    echo "== $mode, $iterations iterations, repeat $rep/$repeats"
    /usr/bin/python3 "$here/bench.py" "$mode" --bootstrap-servers "$bootstrap" --iterations "$iterations" \
        --experiment "bench-pytorch-client-$rep" | tee -a "$results" | sed 's/^/   /'
  done
done

/usr/bin/python3 - "$results" <<'PY'
import re, statistics, sys
wall = {"plain": [], "publish": []}
cpu = {"plain": [], "publish": []}
for line in open(sys.argv[1]):
    m = re.match(r"RESULT mode=(\w+) iterations=\d+ seconds=\S+ us_per_iteration=(\S+) cpu_us_per_iteration=(\S+)", line)
    if m:
        wall[m.group(1)].append(float(m.group(2)))
        cpu[m.group(1)].append(float(m.group(3)))
med = {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in wall}
show = lambda vs: ", ".join("%.1f" % v for v in vs)
print("| side | wall µs/iteration (median of %d) | CPU µs/iteration (median) | wall, all repeats | CPU, all repeats |"
      % len(wall["plain"]))
print("| --- | --- | --- | --- | --- |")
print("| plain PyTorch loop | %.1f | %.1f | %s | %s |" % (med["plain"] + (show(wall["plain"]), show(cpu["plain"]))))
print("| with sgdscope client | %.1f | %.1f | %s | %s |" % (med["publish"] + (show(wall["publish"]), show(cpu["publish"]))))
print("| CPU overhead | %+.1f %% | | | |" % (100.0 * (med["publish"][1] / med["plain"][1] - 1.0)))
print("| overhead | %+.1f %% | goal <= 5 %% |" % (100.0 * (med["publish"][0] / med["plain"][0] - 1.0)))
PY
