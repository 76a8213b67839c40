#!/usr/bin/env bash
# The Python client's overhead benchmark (bench/pytorch-client/README.md): a plain PyTorch SGD loop on the
# mnist-mlp3 net against the same loop publishing every iteration through the sgdscope client to a real broker.
# Usage: bench/pytorch-client/run.sh [ITERATIONS]      (default 2000 per process; from anywhere)
#   REPEATS=3 (default): plain and publish processes interleaved REPEATS times; medians reported.
#   REPEATS=1 bench/pytorch-client/run.sh 100           (tiny: only checks the script works, as bench/smoke.sh does)
#   BASELINE=<commit>: also runs that commit's clients/python/src (extracted with git archive) as a third side,
#                      "baseline", interleaved with the other two: the gain as a ratio measured under the same load
#   ZERO_GRAD=none: both loops call optimizer.zero_grad(set_to_none=True) (PyTorch 2's default; default: zero)
#   BATCH=64 (default): the minibatch size of both loops (run.log's cost does not depend on it, the iteration's does)
#   INTERLEAVED=1 (default): after each publish (and baseline) process, one process of that client running plain
#                      and logged iterations in alternating blocks of 20 (bench.py interleaved): the overhead as a
#                      ratio measured in one process, robust to the machine's load; INTERLEAVED=0 leaves it out
# Needs a JDK (the broker: bench/ensemble/BenchBroker.java, an embedded KRaft broker in a process of its own) and
# /usr/bin/python3 with torch, confluent_kafka, avro (Debian: python3-torch, python3-confluent-kafka, python3-avro).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"
fail() { echo "bench/pytorch-client/run.sh: $*" >&2; exit 2; }
[ $# -le 1 ] || fail "takes one argument, the iterations per process (got $#: $*)"
iterations="${1:-2000}"
repeats="${REPEATS:-3}"
baseline="${BASELINE:-}"
zero_grad="${ZERO_GRAD:-zero}"
batch="${BATCH:-64}"
interleave="${INTERLEAVED:-1}"
[[ "$interleave" =~ ^[01]$ ]] || fail "INTERLEAVED must be 0 or 1, got '$interleave'"
[[ "$zero_grad" =~ ^(zero|none)$ ]] || fail "ZERO_GRAD must be zero or none, got '$zero_grad'"
[[ "$batch" =~ ^[1-9][0-9]*$ ]] || fail "BATCH must be a positive whole number, got '$batch'"
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
# The kernels ./sgdscope names for this CPU (bench/lib/openblas-kernels.sh): where OpenBLAS falls back to its generic
# Prescott kernels, 3-4x slower matrix products would shrink the client's share of an iteration.
. "$top/bench/lib/openblas-kernels.sh"
use_launcher_openblas_kernels "$top"

modes="plain publish"
if [ -n "$baseline" ]; then
  rm -rf "$work/baseline-src" && mkdir -p "$work/baseline-src"
  git -C "$top" archive "$baseline" clients/python/src | tar -x -C "$work/baseline-src" \
      || fail "BASELINE=$baseline: no clients/python/src at that commit"
  modes="plain publish baseline"
fi

. "$top/bench/lib/broker.sh"
trap stop_broker EXIT
start_broker "$work" "$cp" 240 || fail "the broker did not start: $work/broker.log"
echo "== broker $bootstrap (bench/ensemble/BenchBroker.java, a process of its own)"

results="$work/results-$iterations.txt"
: > "$results"
for rep in $(seq 1 "$repeats"); do                    # interleaved, so that drifts of the machine hit both sides
  for mode in $modes; do
    echo "== $mode, $iterations iterations, repeat $rep/$repeats"
    side="$mode" path="$top/clients/python/src"
    if [ "$mode" = baseline ]; then side=publish path="$work/baseline-src/clients/python/src"; fi
    PYTHONPATH="$path" /usr/bin/python3 "$here/bench.py" "$side" --label "$mode" --bootstrap-servers "$bootstrap" \
        --iterations "$iterations" --batch "$batch" --zero-grad "$zero_grad" --experiment "bench-pytorch-client-$mode-$rep" \
        | tee -a "$results" | sed 's/^/   /'
    if [ "$mode" != plain ] && [ "$interleave" = 1 ]; then   # the same client, plain and logged blocks in one process
      echo "== $mode interleaved with plain in one process, $iterations iterations, repeat $rep/$repeats"
      PYTHONPATH="$path" /usr/bin/python3 "$here/bench.py" interleaved --label "$mode" --bootstrap-servers "$bootstrap" \
          --iterations "$iterations" --batch "$batch" --zero-grad "$zero_grad" --experiment "bench-pytorch-client-$mode-i$rep" \
          | tee -a "$results" | sed 's/^/   /'
    fi
  done
done

/usr/bin/python3 - "$results" "$baseline" "$zero_grad" "$batch" <<'PY'
import re, statistics, sys
sides = {}
for line in open(sys.argv[1]):
    m = re.match(r"RESULT mode=(\w+) iterations=\d+ seconds=\S+ us_per_iteration=(\S+) cpu_us_per_iteration=(\S+)"
                 r" log_us=(\S+) log_cpu_us=(\S+) main_thread_cpu_us=(\S+)", line)
    if m:
        sides.setdefault(m.group(1), []).append([float(v) for v in m.group(2, 3, 4, 5, 6)])
inter = {}
for line in open(sys.argv[1]):
    m = re.match(r"INTERLEAVED mode=(\w+) iterations=\d+ block=\d+ plain_us=(\S+) logged_us=(\S+) overhead_pct=(\S+)"
                 r" log_us=(\S+) log_share_pct=(\S+)(?: norm_floor_pct=(\S+) stats_floor_pct=(\S+))?"
                 r"(?: scalars_pct=(\S+) scalars_log_pct=(\S+))?", line)
    if m:
        inter.setdefault(m.group(1), []).append([float(v or "nan") for v in m.group(2, 3, 4, 5, 6, 7, 8, 9, 10)])
med = {k: [statistics.median(r[i] for r in rows) for i in range(5)] for k, rows in sides.items()}
show = lambda k, i: ", ".join("%.1f" % r[i] for r in sides[k])
names = {"plain": "plain PyTorch loop", "publish": "with sgdscope client",
         "baseline": "with the client of %s" % sys.argv[2]}
print("zero_grad: %s, batch: %s" % (sys.argv[3], sys.argv[4]))
print("| side | wall µs/iteration (median of %d) | CPU µs/iteration (median) | loop thread's CPU µs (median) "
      "| µs inside run.log (wall, CPU) | wall, all repeats | CPU, all repeats | run.log wall, all repeats |"
      % len(sides["plain"]))
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for k in sides:
    log = "" if k == "plain" else "%.1f, %.1f" % (med[k][2], med[k][3])
    print("| %s | %.1f | %.1f | %.1f | %s | %s | %s | %s |" % (names[k], med[k][0], med[k][1], med[k][4], log,
                                                              show(k, 0), show(k, 1), "" if k == "plain" else show(k, 2)))
plain = med["plain"][0]
for k in [k for k in sides if k != "plain"]:
    print("| %s: run.log as a share of the plain iteration | %.1f %% (CPU %.1f %%) | goal <= 5 %% |"
          % (k, 100.0 * med[k][2] / plain, 100.0 * med[k][3] / med["plain"][1]))
    print("| %s: CPU overhead | %+.1f %% | | | |" % (k, 100.0 * (med[k][1] / med["plain"][1] - 1.0)))
print("| overhead | %+.1f %% | goal <= 5 %% |" % (100.0 * (med["publish"][0] / plain - 1.0)))
if "baseline" in sides:
    print("| run.log, baseline / this commit | %.2fx wall, %.2fx CPU | | | |"
          % (med["baseline"][2] / med["publish"][2], med["baseline"][3] / med["publish"][3]))
if inter:
    print()
    print("Interleaved in one process (blocks of plain and logged iterations alternating; medians over blocks, then "
          "over repeats):")
    print("| client | plain µs/iteration | logged µs/iteration | overhead | µs inside run.log | run.log share of plain "
          "| floor: read g_t | floor: the statistics | scalars only: overhead | scalars only: run.log share "
          "| overhead, all repeats | run.log share, all repeats | scalars only: overhead, all repeats |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for k, rows in inter.items():
        m = [statistics.median(r[i] for r in rows) for i in range(9)]
        print("| %s | %.1f | %.1f | %+.2f %% | %.1f | %.2f %% | %+.2f %% | %+.2f %% | %+.2f %% | %.2f %% | %s | %s | %s |" % (
            names[k], m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], ", ".join("%+.2f" % r[2] for r in rows),
            ", ".join("%.2f" % r[4] for r in rows), ", ".join("%+.2f" % r[7] for r in rows)))
    print("(goal: overhead <= 5 %; the floors: blocks of bare NumPy reading g_t once, and doing the client's dots and "
          "copy, against plain blocks; scalars only: run.log(t, loss=..., sg_norm=...) without the model)")
PY
