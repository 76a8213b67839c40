#!/usr/bin/env bash
# The spectra warm-start benchmark (bench/spectra/README.md): matvecs of the warm-started Lanczos per snapshot
# against a cold 60-step Lanczos at equal Ritz residual, MNIST-MLP (p = 134,794), float32, top-15.
# Usage: bench/spectra/run.sh            (from anywhere; builds the trainer module and what it needs with the Maven
#                                         wrapper: a fresh clone is enough)
#   SAMPLES=10000 TIMES=0,50,100,150 BATCH=64 ETA=0.05 VARIANTS=probe bench/spectra/run.sh   (the defaults)
#   SAMPLES=300 TIMES=0,5 bench/spectra/run.sh   (tiny: only checks that the script works, as bench/smoke.sh
#                                                 does; its numbers mean nothing)
#   VARIANTS=probe,noise-0.01,noise-0,top,ramp    (compares warm-start vectors, WarmStartBench.direction)
#   TRAINER_COLD=true   (also the trainer's Lanczos settings from a random start at each snapshot after the first:
#                        TRAINER-COLD lines, against the warm PUBLISHED counts at the same tolerance 1e-5)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
export OMP_WAIT_POLICY=PASSIVE   # libgomp's spinning slows ND4J 2-10x on a shared machine (bench/curvature/README.md)

cd "$top"
./mvnw -B -q -pl trainer -am package -DskipTests \
    dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt
cp="$top/trainer/target/classes:$(cat "$top/trainer/target/bench-classpath.txt")"

echo "== commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
work="$here/target"
mkdir -p "$work"
# ND4J's start-up chatter goes to stderr: kept in target/stderr.log, shown when the harness fails.
java -Xmx3g -cp "$cp" "$here/WarmStartBench.java" "${SAMPLES:-10000}" "${TIMES:-0,50,100,150}" "${BATCH:-64}" \
    "${ETA:-0.05}" "${VARIANTS:-probe}" "${TRAINER_COLD:-false}" 2>"$work/stderr.log" || { tail -n 20 "$work/stderr.log" >&2; exit 1; }
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
