#!/usr/bin/env bash
# The end-to-end benchmark (bench/e2e/README.md): `sgdscope demo --runs R --precision
# float32` (training, publishing every record to the embedded broker, both streams apps, in one process)
# side by side with the PyTorch peer training the same runs without telemetry (bench/ensemble/peer.sh) and
# with sgdscope's compute-only trainer (bench/ensemble's EnsembleBench in its `compute` mode: the ensemble
# engine handing every record to a sink that drops it). Each process runs under /usr/bin/time -v (wall,
# user+sys CPU, max RSS); 400 iterations on every side (the demo's default, the harness's and the peer's).
# Usage: bench/e2e/run.sh [R]            (default R = 10000; from anywhere; builds what it needs with the Maven
#                                         wrapper: a fresh clone is enough)
#   REPEATS=1 bench/e2e/run.sh 10000     (repeats of the three, interleaved; default 3; medians reported)
#   REPEATS=1 bench/e2e/run.sh 50        (a tiny run that only checks the script works, as bench/smoke.sh does)
# Goals (the issue "Telemetry at the speed of training"): demo wall / peer wall <= 1.0, demo CPU / compute-only
# CPU <= 1.3, live lag (iterations the demo's bands were behind when training ended) <= 5. The machine has
# 2 cores: run nothing else meanwhile.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
top="$(cd "$here/../.." && pwd)"

fail() { echo "bench/e2e/run.sh: $*" >&2; exit 2; }
[ $# -le 1 ] || fail "takes one argument, the number of runs R (got $#: $*)"
runs="${1:-10000}"
repeats="${REPEATS:-3}"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || fail "R must be a positive whole number of runs, got '$runs'"
[[ "$repeats" =~ ^[1-9][0-9]*$ ]] || fail "REPEATS must be a positive whole number, got '$repeats'"
[ -x /usr/bin/time ] || fail "needs GNU time as /usr/bin/time (Debian: apt-get install time)"
[ -x /usr/bin/python3 ] || fail "needs /usr/bin/python3 with torch for the peer (Debian: python3-torch)"

work="$here/target"
mkdir -p "$work"
export OMP_WAIT_POLICY=PASSIVE

cd "$top"
# One reactor build, nothing installed: the cli jar the launcher runs (the demo), and the trainer and the
# embedded broker with their classpath files for the compute-only harness, as bench/ensemble/run.sh builds them.
./mvnw -B -q -pl cli,trainer,embedded-kafka -am package -DskipTests \
    dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt
cp="$top/trainer/target/classes:$top/embedded-kafka/target/classes:$(cat "$top/trainer/target/bench-classpath.txt"):$(cat "$top/embedded-kafka/target/bench-classpath.txt")"
javac -d "$work/bench-classes" -cp "$cp" "$top/bench/ensemble/EnsembleBench.java"
# The peer's OpenBLAS, in the folder peer.sh looks in, fetched before anything is timed.
[ -e "$top/bench/ensemble/target/openblas/libblas.so.3" ] || "$top/bench/openblas.sh" "$top/bench/ensemble/target/openblas"
# The compute-only harness runs with the JVM options the launcher gives `sgdscope train`, as in bench/ensemble.
train_options="$(sed -e 's/#.*//' "$top/cli/jvm-options/train" | xargs)"

# timed SIDE REPEAT COMMAND...: runs COMMAND under /usr/bin/time -v, output in $logs/SIDE-REPEAT.log, and
# appends a line "SIDE REPEAT wall_s cpu_s max_rss_mb" to $measures.
measures="$work/measures-$runs.txt"
: > "$measures"
logs="$work/logs-$runs"                               # this run's logs only: an earlier run's would be counted
rm -rf "$logs" && mkdir -p "$logs"
timed() {
  local side="$1" repeat="$2"
  shift 2
  local log="$logs/$side-$repeat.log" times="$logs/$side-$repeat.time"
  if ! /usr/bin/time -v -o "$times" "$@" >"$log" 2>&1; then
    echo "bench/e2e/run.sh: $side (repeat $repeat) failed; the end of its output ($log):" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  awk -v side="$side" -v repeat="$repeat" -F': ' '
    /Elapsed \(wall clock\) time/ {n = split($NF, p, ":"); wall = 0; for (i = 1; i <= n; i++) wall = wall * 60 + p[i]}
    /User time \(seconds\)/ {user = $NF}
    /System time \(seconds\)/ {sys = $NF}
    /Maximum resident set size \(kbytes\)/ {rss = $NF}
    END {printf "%s %s %.2f %.2f %.0f\n", side, repeat, wall, user + sys, rss / 1024}' "$times" >> "$measures"
}

for rep in $(seq 1 "$repeats"); do                   # interleaved, so that drifts of the machine hit all three
  echo "== sgdscope demo --runs $runs --precision float32 (no curvature probes), repeat $rep/$repeats"
  timed demo "$rep" "$top/sgdscope" demo --runs "$runs" --precision float32 --moments-every 0 --spectrum-every 0 \
      --experiment "bench-e2e-$runs-$rep" --metrics-port 0
  grep -E '^(Training|Telemetry|Live view|Runs \(streams apps\)):' "$logs/demo-$rep.log" | sed 's/^/   /'
  grep -q '^Live view: .* iterations\{0,1\} behind), ' "$logs/demo-$rep.log" \
      || { echo "bench/e2e/run.sh: the demo printed no 'Live view:' line ($logs/demo-$rep.log)" >&2; exit 1; }
  echo "== PyTorch peer (no telemetry), R = $runs, float32, repeat $rep/$repeats"
  timed peer "$rep" "$top/bench/ensemble/peer.sh" "$runs" --dtype float32
  grep -E '^(RESULT|CHECK)' "$logs/peer-$rep.log" | sed 's/^/   /'
  echo "== sgdscope compute-only (EnsembleBench compute), R = $runs, float32, repeat $rep/$repeats"
  timed compute "$rep" java $train_options -Xmx8g -cp "$work/bench-classes:$cp" EnsembleBench "$runs" compute float32
  grep -E '^(RESULT|CHECK|WARNING)' "$logs/compute-$rep.log" | sed 's/^/   /'
done

median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
column() { awk -v side="$1" -v col="$2" '$1 == side {print $col}' "$measures" | median; }
# The training loop each side reports: the demo's "Training: ... in S s", the harnesses' RESULT seconds=S.
loop_seconds() {
  case "$1" in
    demo) sed -n 's/^Training: .* in \([0-9.]*\) s (.*/\1/p' "$logs"/demo-*.log ;;
    *) sed -n 's/^RESULT .*seconds=\([0-9.]*\) .*/\1/p' "$logs/$1"-*.log ;;
  esac | median
}
lag_iterations=$(sed -n 's/^Live view: .* (\([0-9]*\) iterations\{0,1\} behind).*/\1/p' "$logs"/demo-*.log | median)
lag_seconds=$(sed -n 's/^Live view: .*), caught up \([0-9.]*\) s later$/\1/p' "$logs"/demo-*.log | median)
# A demo whose bands had not reached the last iteration when it stopped waiting for the streams apps says so.
not_caught_up=$({ grep -c '^Live view: .*), not caught up ' "$logs"/demo-*.log || true; } | awk -F: '{n += $NF} END {print n + 0}')

echo "== R = $runs, float32, 400 iterations: medians of $repeats interleaved repeats (measures in $measures)"
printf "| process | wall (s) | CPU user+sys (s) | max RSS (MB) | training loop (s) |\n| --- | --- | --- | --- | --- |\n"
for side in demo peer compute; do
  case "$side" in
    demo) name="sgdscope demo (ensemble, telemetry, streams apps)" ;;
    peer) name="PyTorch peer (no telemetry)" ;;
    compute) name="sgdscope compute-only (no telemetry)" ;;
  esac
  printf "| %s | %s | %s | %s | %s |\n" "$name" "$(column "$side" 3)" "$(column "$side" 4)" "$(column "$side" 5)" \
      "$(loop_seconds "$side")"
done
printf "\n| measure | value | goal |\n| --- | --- | --- |\n"
awk -v dw="$(column demo 3)" -v pw="$(column peer 3)" -v dc="$(column demo 4)" -v cc="$(column compute 4)" \
    -v lag="$lag_iterations" -v lags="$lag_seconds" -v stuck="$not_caught_up" -v repeats="$repeats" 'BEGIN {
  printf "| demo wall / peer wall | %.2f | <= 1.0 (%s) |\n", dw / pw, dw / pw <= 1.0 ? "met" : "missed"
  printf "| demo CPU / compute-only CPU | %.2f | <= 1.3 (%s) |\n", dc / cc, dc / cc <= 1.3 ? "met" : "missed"
  printf "| live lag (iterations) | %d | <= 5 (%s) |\n", lag, lag <= 5 ? "met" : "missed"
  if (stuck == 0) printf "| live view caught up after (s) | %.1f | |\n", lags
  else printf "| live view caught up after (s) | %s (not caught up in %d of %d demos) | |\n", lags, stuck, repeats
}'
