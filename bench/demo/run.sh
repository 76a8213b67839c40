#!/usr/bin/env bash
# `sgdscope demo` (100 runs x 400 iterations of Gauss-10, the moments every 10 iterations, a spectrum every 200) with
# the per-run engine against the ensemble engine, REPEATS interleaved pairs (default 3), each on its own ports.
# Prints each run's `Training:` line and wall time, then the medians and the ratio.
#   bench/demo/run.sh                      # uses ./sgdscope's jar (builds it if needed)
#   JAR=/path/sgdscope.jar bench/demo/run.sh   # a fixed copy of the jar (the sources may change meanwhile)
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
if [ -z "${JAR:-}" ]; then
  "$root/sgdscope" --version >/dev/null
  JAR="$root/cli/target/sgdscope.jar"
fi
demo() {   # engine log
  local start end
  start=$(date +%s.%N)
  local metrics=$((port > 0 ? port + 1 : 0))
  nice java -jar "$JAR" demo --kafka-port "$port" --metrics-port "$metrics" --engine "$1" \
      --runs "$runs" --iterations "$iterations" --moments-every "$moments" --spectrum-every "$spectrum" >"$2" 2>&1
  end=$(date +%s.%N)
  port=$((port > 0 ? port + 2 : 0))
  echo "$1 total $(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}') s, $(grep '^Training:' "$2")"
}
for i in $(seq 1 "$repeats"); do
  demo per-run "$out/per-run-$i.log"
  demo ensemble "$out/ensemble-$i.log"
done | tee "$out/summary.txt"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for engine in per-run ensemble; do
  training=$(grep "^$engine " "$out/summary.txt" | sed -E 's/.* in ([0-9.]+) s .*/\1/' | median)
  total=$(grep "^$engine " "$out/summary.txt" | sed -E 's/.* total ([0-9.]+) s.*/\1/' | median)
  echo "$engine: median Training ${training} s, median total ${total} s"
done | tee -a "$out/summary.txt"
echo "logs: $out"
