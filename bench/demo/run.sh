#!/usr/bin/env bash
# `sgdscope demo` (100 runs x 400 iterations of Gauss-10, the moments every 10 iterations, a spectrum every 200) on the
# ensemble engine, REPEATS times (default 3), each on its own ports; with PER_RUN_JAR, interleaved with the retired
# per-run engine run by a jar built before it was retired (bench/demo/README.md says how to build one).
# Prints each run's `Training:` line and wall time, then the medians (and the ratio when both engines ran).
#   bench/demo/run.sh                      # uses ./sgdscope's jar (builds it if needed)
#   JAR=/path/sgdscope.jar bench/demo/run.sh   # a fixed copy of the jar (the sources may change meanwhile)
#   PER_RUN_JAR=/tmp/per-run/cli/target/sgdscope.jar bench/demo/run.sh   # pairs: per-run (old jar), ensemble (JAR)
#   PORT_BASE=19310 REPEATS=3 bench/demo/run.sh    # fixed ports PORT_BASE, PORT_BASE+1, ... (default: any free port)
#   SPECTRUM_EVERY=0 REPEATS=1 bench/demo/run.sh   # without the spectra (their share of the time)
#   RUNS=4 ITERATIONS=20 REPEATS=1 bench/demo/run.sh # tiny: only checks that the script works
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
repeats="${REPEATS:-3}"
port="${PORT_BASE:-0}"
runs="${RUNS:-100}"
iterations="${ITERATIONS:-400}"
moments="${MOMENTS_EVERY:-10}"
spectrum="${SPECTRUM_EVERY:-200}"
out="${OUT:-$(mktemp -d)}"
mkdir -p "$out"
. "$root/bench/lib/openblas-kernels.sh"
use_launcher_openblas_kernels "$root"      # builds the jar if needed; the kernels a demo gets from ./sgdscope
JAR="${JAR:-$root/cli/target/sgdscope.jar}"
engines="ensemble"
if [ -n "${PER_RUN_JAR:-}" ]; then
  [ -f "$PER_RUN_JAR" ] || { echo "bench/demo/run.sh: PER_RUN_JAR $PER_RUN_JAR is not a file" >&2; exit 1; }
  engines="per-run ensemble"
fi
demo() {   # engine log
  local start end jar="$JAR"
  [ "$1" = per-run ] && jar="$PER_RUN_JAR"
  start=$(date +%s.%N)
  local metrics=$((port > 0 ? port + 1 : 0))
  nice java -jar "$jar" demo --kafka-port "$port" --metrics-port "$metrics" --engine "$1" \
      --runs "$runs" --iterations "$iterations" --moments-every "$moments" --spectrum-every "$spectrum" >"$2" 2>&1
  end=$(date +%s.%N)
  port=$((port > 0 ? port + 2 : 0))
  echo "$1 total $(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}') s, $(grep '^Training:' "$2")"
}
for i in $(seq 1 "$repeats"); do
  for engine in $engines; do
    demo "$engine" "$out/$engine-$i.log"
  done
done | tee "$out/summary.txt"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for engine in $engines; do
  training=$(grep "^$engine " "$out/summary.txt" | sed -E 's/.* in ([0-9.]+) s .*/\1/' | median)
  total=$(grep "^$engine " "$out/summary.txt" | sed -E 's/.* total ([0-9.]+) s.*/\1/' | median)
  echo "$engine: median Training ${training} s, median total ${total} s"
done | tee -a "$out/summary.txt"
echo "logs: $out"
