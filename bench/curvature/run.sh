#!/usr/bin/env bash
# The curvature benchmark, both sides, and the ratios sgdscope/PyTorch (bench/curvature/README.md).
# Usage: bench/curvature/run.sh [repeats] [rounds]   (from anywhere; compiles the trainer module if needed)
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
# uses (from the org.bytedeco:openblas jar already in the Maven repository): the same BLAS on both
# sides, the peer's fastest setting here. SYSTEM_BLAS=1 adds one run of the peer as installed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
repeats="${1:-5}"
rounds="${2:-2}"
work="$here/target"
mkdir -p "$work"
export OMP_WAIT_POLICY=PASSIVE

cd "$top"
./mvnw -B -q -o -pl trainer compile
./mvnw -B -q -o -pl trainer dependency:build-classpath -Dmdep.outputFile="$work/classpath.txt" >/dev/null
cp="$top/trainer/target/classes:$(cat "$work/classpath.txt")"

jar="$(tr ':' '\n' < "$work/classpath.txt" | grep 'openblas-.*-linux-x86_64.jar' | head -n 1)"
blas="$work/openblas"
rm -rf "$blas" && mkdir -p "$blas"
unzip -q -o -j "$jar" 'org/bytedeco/openblas/linux-x86_64/*.so*' -d "$blas"
ln -sf libopenblas.so.0 "$blas/libblas.so.3"
ln -sf libopenblas.so.0 "$blas/liblapack.so.3"

rm -f "$work"/sgdscope-*.txt "$work"/torch-*.txt
for round in $(seq 1 "$rounds"); do
  echo "== round $round: sgdscope (ND4J 1.0.0-M2.1 + OpenBLAS 0.3.19, float32, 2 threads, -Xmx2g)"
  java -Xmx2g -cp "$cp" "$here/CurvatureBench.java" "$work" "$repeats" 2>/dev/null | tee "$work/sgdscope-$round.txt"
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
