#!/usr/bin/env bash
# The DL4J listener's overhead benchmark (bench/dl4j/README.md): DL4J training an MNIST-MLP3-sized net alone against
# the same training with sgdscope's listener publishing every iteration to a Kafka broker in another process.
# Usage: bench/dl4j/run.sh [ITERATIONS=2000]     (from anywhere; builds what it needs with the Maven wrapper)
#   REPEATS=3       interleaved repeats of each mode (fresh JVM each); medians reported
#   BATCH=64        minibatch size; DTYPE=float32 (or float64)
#   PROBE=1000      the listener-probe mode's probe set size (f(theta_t) on PROBE samples every iteration)
#   REPEATS=1 bench/dl4j/run.sh 100    a tiny run that only checks the script works (bench/smoke.sh); its timings mean nothing
# Goal: the listener (loss = the minibatch's) within 5 % of DL4J's own time per iteration. The -callbacks rows give
# the time spent inside the listener's callbacks alone, as a share of plain's time per iteration.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
iterations="${1:-2000}"
repeats="${REPEATS:-3}"
batch="${BATCH:-64}"
dtype="${DTYPE:-float32}"
probe="${PROBE:-1000}"
work="$here/target"
mkdir -p "$work"
export OMP_WAIT_POLICY=PASSIVE

cd "$top"
# dl4j (client, deeplearning4j-nn), the trainer (ND4J's CPU backend at runtime) and the embedded broker, built in one
# reactor (nothing installed into the local Maven repository).
./mvnw -B -q -pl dl4j,trainer,embedded-kafka -am package -DskipTests dependency:build-classpath \
    -Dmdep.includeScope=runtime -Dmdep.outputFile=target/bench-dl4j-classpath.txt
cp="$top/dl4j/target/classes:$top/trainer/target/classes:$top/embedded-kafka/target/classes"
for module in dl4j trainer embedded-kafka; do cp="$cp:$(cat "$top/$module/target/bench-dl4j-classpath.txt")"; done
javac -d "$work/bench-classes" -cp "$cp" "$here/Dl4jOverheadBench.java" "$top/bench/ensemble/BenchBroker.java"

. "$top/bench/lib/broker.sh"
trap stop_broker EXIT
start_broker "$work" "$cp" || { echo "the broker did not start: $work/broker.log"; exit 1; }

results="$work/results.txt"
: > "$results"
modes=(plain listener "listener-probe=$probe")
for rep in $(seq 1 "$repeats"); do                        # interleaved: every mode once per repeat
  for mode in "${modes[@]}"; do
    java -Xmx2g -cp "$work/bench-classes:$cp" Dl4jOverheadBench "$mode" "$iterations" "$batch" "$dtype" "$bootstrap" \
        2>>"$work/bench.log" | tee -a "$work/bench.log" | awk '$1 == "RESULT" {print $2, $3}' >>"$results"
  done
done

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
plain="$(awk '$1 == "plain" {print $2}' "$results" | median)"
echo
echo "DL4J MNIST-MLP3 (784-128-128-128-10, p = 134,794), batch $batch, $dtype, $iterations timed iterations, medians of $repeats"
echo
echo "| mode | ms per iteration | overhead vs plain |"
echo "| --- | --- | --- |"
for mode in "${modes[@]}" listener-callbacks "listener-probe=$probe-callbacks"; do
  m="$(awk -v m="$mode" '$1 == m {print $2}' "$results" | median)"
  # a -callbacks row: the time inside the listener's callbacks alone, as a share of plain's time per iteration
  awk -v mode="$mode" -v m="$m" -v p="$plain" 'BEGIN {
    o = (mode ~ /-callbacks$/) ? m / p * 100 : (m / p - 1) * 100
    printf "| %s | %.3f | %+.1f %% |\n", mode, m * 1000, o }'
done
