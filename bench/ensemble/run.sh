#!/usr/bin/env bash
# The ensemble benchmark, both sides, and the ratios sgdscope / PyTorch (bench/ensemble/README.md).
# Usage: bench/ensemble/run.sh [runs...]        (default: 1000 10000; from anywhere; builds what it needs)
#   DTYPE=float64 bench/ensemble/run.sh 1000    (default float32, as the peer's measurements)
#   BENCH_JAVA_OPTS=-XX:TieredStopAtLevel=1 bench/ensemble/run.sh 1000   (JVM options of sgdscope's side)
#
# For each R: sgdscope's ensemble engine training and handing every record to a sink that drops it
# ("compute"), the same training publishing every record to an embedded Kafka broker in the process
# ("publish", flush included), then the PyTorch peer (bench/ensemble/peer.sh). Goals: compute <= 1.0x
# the peer, publish <= 1.5x. The machine has 2 cores: run nothing else meanwhile.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
dtype="${DTYPE:-float32}"
runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(1000 10000)
work="$here/target"
mkdir -p "$work"
export OMP_WAIT_POLICY=PASSIVE

cd "$top"
./mvnw -B -q -N install
./mvnw -B -q -pl schemas,embedded-kafka,trainer install -DskipTests
./mvnw -B -q -pl trainer dependency:build-classpath -Dmdep.outputFile="$work/cp-trainer.txt" >/dev/null
./mvnw -B -q -pl embedded-kafka dependency:build-classpath -Dmdep.outputFile="$work/cp-kafka.txt" >/dev/null
cp="$top/trainer/target/classes:$top/embedded-kafka/target/classes:$(cat "$work/cp-trainer.txt"):$(cat "$work/cp-kafka.txt")"

results="$work/results-$dtype.txt"
: > "$results"
for r in "${runs[@]}"; do
  for mode in compute publish; do
    echo "== sgdscope ensemble engine, R = $r, $mode, $dtype (2 workers, -Xmx8g)"
    java ${BENCH_JAVA_OPTS:-} -Xmx8g -cp "$cp" "$here/EnsembleBench.java" "$r" "$mode" "$dtype" 2>"$work/sgdscope-$r-$mode.log" | tee -a "$results"
  done
  echo "== PyTorch peer, R = $r, $dtype"
  "$here/peer.sh" "$r" --dtype "$dtype" | tee -a "$results"
done

echo "== ratios sgdscope / PyTorch ($dtype; goals: compute <= 1.0, publish <= 1.5)"
printf "| R | sgdscope compute (s) | sgdscope publish (s) | PyTorch (s) | compute ratio | publish ratio |\n"
printf "| --- | --- | --- | --- | --- | --- |\n"
for r in "${runs[@]}"; do
  c=$(awk -v r="runs=$r" '$1 == "RESULT" && $2 == r && $3 == "mode=compute" {sub("seconds=", "", $4); print $4}' "$results")
  p=$(awk -v r="runs=$r" '$1 == "RESULT" && $2 == r && $3 == "mode=publish" {sub("seconds=", "", $4); print $4}' "$results")
  t=$(awk -v r="runs=$r" '$1 == "RESULT" && $2 == r && $3 ~ /^seconds=/ {sub("seconds=", "", $3); print $3}' "$results")
  awk -v r="$r" -v c="$c" -v p="$p" -v t="$t" 'BEGIN {printf "| %d | %.2f | %.2f | %.2f | %.2f | %.2f |\n", r, c, p, t, c / t, p / t}'
done
