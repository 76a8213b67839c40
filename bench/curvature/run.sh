#!/usr/bin/env bash
# The curvature benchmark, both sides, and the ratios sgdscope/PyTorch (bench/curvature/README.md).
# Usage: bench/curvature/run.sh [repeats] [rounds]   (from anywhere; builds the trainer module and what it
#                                                    needs with the Maven wrapper: a fresh clone is enough)
#   SAMPLES=200 bench/curvature/run.sh 1 1          (n, default 10000: a tiny run that only checks the script
#                                                    works, as bench/smoke.sh does; its timings mean nothing)
#
# Each round runs sgdscope, then PyTorch; each side reports the median of `repeats` timings per operation,
# and the table takes each side's best round (this machine is shared and noisy: alternating the two and
# keeping the best round compares them under the same conditions as far as possible).
#
# Both sides get OMP_WAIT_POLICY=PASSIVE: ND4J's libnd4j and PyTorch both use libgomp, whose default
# spinning slowed each of them 2-10x on this 2-core machine whenever another process wanted a core.
# Debian's python3-torch calls whatever libblas.so.3 the system has ("BLAS_INFO=generic"); with only
# Debian's reference libblas3 installed that is ~25x slower than OpenBLAS. So the peer runs with
# libblas.so.3 / liblapack.so.3 pointed, for that process alone, at the OpenBLAS 0.3.19 that ND4J itself
# uses (from the org.bytedeco:openblas jar, bench/openblas.sh): the same BLAS on both sides, the peer's
# fastest setting here. SYSTEM_BLAS=1 adds one run of the peer as installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
repeats="${1:-5}"
rounds="${2:-2}"
samples="${SAMPLES:-10000}"
work="$here/target"
mkdir -p "$work"
export OMP_WAIT_POLICY=PASSIVE

cd "$top"
# The trainer and the modules it depends on, built in one reactor (nothing needs to be installed); the
# classpath file lists the sibling modules' jars from their target folders.
./mvnw -B -q -pl trainer -am package -DskipTests \
    dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt
cp="$top/trainer/target/classes:$(cat "$top/trainer/target/bench-classpath.txt")"

blas="$work/openblas"
rm -rf "$blas"
"$top/bench/openblas.sh" "$blas"

rm -f "$work"/sgdscope-*.txt "$work"/torch-*.txt
for round in $(seq 1 "$rounds"); do
  echo "== round $round: sgdscope (ND4J 1.0.0-M2.1 + OpenBLAS 0.3.19, float32, 2 threads, -Xmx2g)"
  java -Xmx2g -cp "$cp" "$here/CurvatureBench.java" "$work" "$repeats" "$samples" 2>/dev/null | tee "$work/sgdscope-$round.txt"
  echo "== round $round: PyTorch on OpenBLAS 0.3.19 (Debian python3-torch, float32, 2 threads)"
  LD_LIBRARY_PATH="$blas" OPENBLAS_NUM_THREADS=2 \
    /usr/bin/python3 "$here/torch_peer.py" "$work" "$repeats" | tee "$work/torch-$round.txt"
done
if [ "${SYSTEM_BLAS:-0}" = 1 ]; then
  echo "== PyTorch as installed (system libblas.so.3)"
  /usr/bin/python3 "$here/torch_peer.py" "$work" "$repeats" | tee "$work/torch-system.txt"
fi

best() {  # best (smallest) time of an operation over the rounds of one side
  cat "$work"/"$1"-[0-9]*.txt | awk -v w="$2" '$1 == "RESULT" && $3 == w {print $4}' | sort -g | head -n 1
}
echo "== ratios sgdscope / PyTorch, best round of each (goal <= 0.7)"
printf "| operation | sgdscope (s) | PyTorch (s) | ratio |\n| --- | --- | --- | --- |\n"
for what in loss+gradient Hv Mv lanczos-H lanczos-M; do
  s=$(best sgdscope "$what")
  t=$(best torch "$what")
  awk -v w="$what" -v s="$s" -v t="$t" 'BEGIN {printf "| %s | %.4f | %.4f | %.2f |\n", w, s, t, s / t}'
done
