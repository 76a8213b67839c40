#!/usr/bin/env bash
# The ensemble benchmark, both sides, and the ratios sgdscope / PyTorch (bench/ensemble/README.md).
# Usage: bench/ensemble/run.sh [runs...]        (default: 1000 10000; from anywhere; builds what it needs with
#                                              the Maven wrapper: a fresh clone is enough)
#   REPEATS=5 bench/ensemble/run.sh 1000       (interleaved repeats per size, default 3; medians reported)
#   REPEATS=1 bench/ensemble/run.sh 20         (a tiny run that only checks the script works, as
#                                              bench/smoke.sh does; its timings mean nothing)
#   DTYPE=float64 bench/ensemble/run.sh 1000    (default float32, as the peer's measurements)
#   BENCH_JAVA_OPTS=-XX:TieredStopAtLevel=1 bench/ensemble/run.sh 1000   (more JVM options for sgdscope's side,
#                                              after those the launcher gives `sgdscope train`: cli/jvm-options/train)
#   MODE=probes DTYPE=float64 bench/ensemble/run.sh 1000   (the cost of the moments and L every MOMENTS_EVERY
#                                              iterations, default 10: the ensemble with and without them, and the
#                                              PyTorch peer torch_probes_peer.py with and without them, interleaved;
#                                              PEER=0: sgdscope's side only; PEER_OPTS: more options for the peer)
#   MODE=crosscheck bench/ensemble/run.sh 2    (the probes peer's moments and L against sgdscope's on the same data,
#                                              parameters and Lanczos starts: torch_probes_peer.py --check (dense
#                                              float64 references) and --dump, then ProbesCrossCheck.java; no timing)
#   MODE=optimizers DTYPE=float64 bench/ensemble/run.sh 1000   (the cost of Adam's per-run state on the ensemble
#                                              engine: the same ensemble with sgd (eta 0.1) and adam (eta 0.01),
#                                              interleaved; OPTIMIZER=diagonal etc. for another one; no peer)
#   MODE=cpu bench/ensemble/run.sh 10000       (the publishing cost: process CPU time per run-iteration of
#                                              sgdscope's side alone ("compute") and publishing every iteration
#                                              to an embedded broker in another process ("publish-to"); no peer;
#                                              BLOCK=0 for the trainer's automatic lockstep blocks, default 500)
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
# The trainer, the embedded broker and what they depend on, built in one reactor (nothing is installed
# into the local Maven repository); each module's classpath file lists its siblings' jars in their target folders.
./mvnw -B -q -pl trainer,embedded-kafka -am package -DskipTests \
    dependency:build-classpath -Dmdep.outputFile=target/bench-classpath.txt
cp="$top/trainer/target/classes:$top/embedded-kafka/target/classes:$(cat "$top/trainer/target/bench-classpath.txt"):$(cat "$top/embedded-kafka/target/bench-classpath.txt")"
repeats="${REPEATS:-3}"
train_options="$(sed -e 's/#.*//' "$top/cli/jvm-options/train" | xargs)"

if [ "${MODE:-}" = cpu ]; then
  # The publishing cost in CPU time. The broker runs in a process of its own, so that the trainer's process CPU
  # time (every thread: workers, the producer's network thread, GC, JIT) holds the trainer's work only.
  javac -d "$work/bench-classes" -cp "$cp" "$here/EnsembleBench.java" "$here/BenchBroker.java"
  . "$top/bench/lib/broker.sh"
  block="${BLOCK:-500}"
  results="$work/results-cpu-$dtype.txt"
  : > "$results"
  for r in "${runs[@]}"; do
    for rep in $(seq 1 "$repeats"); do               # interleaved; a fresh broker per repeat
      start_broker "$work" "$cp" || { echo "the broker did not start: $work/broker.log"; exit 1; }
      for mode in compute "publish-to=$bootstrap"; do
        echo "== sgdscope ensemble engine, R = $r, ${mode%%=*}, $dtype (2 workers, blocks of $block, -Xmx8g), repeat $rep/$repeats"
        java $train_options ${BENCH_JAVA_OPTS:-} -Xmx8g -cp "$work/bench-classes:$cp" EnsembleBench "$r" "$mode" "$dtype" 2 "$block" \
            2>"$work/sgdscope-$r-${mode%%=*}.log" | tee -a "$results"
      done
      exec 3>&-
      wait "$broker"
    done
  done
  median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
  range() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.4f-%.4f", lo, hi}'; }
  field() { awk -v r="runs=$1" -v m="mode=$2" -v f="$3=" '$1 == "RESULT" && $2 == r && $3 == m {
      for (i = 4; i <= NF; i++) if (index($i, f) == 1) {sub(f, "", $i); print $i}}' "$results"; }
  published() { awk -v r="runs=$1" -v f="$2=" '$1 == "PUBLISHING" && $2 == r {
      for (i = 3; i <= NF; i++) if (index($i, f) == 1) {sub(f, "", $i); print $i}}' "$results"; }
  echo "== publishing cost ($dtype, blocks of $block): CPU time per run-iteration, medians of $repeats interleaved repeats (goal: publishing <= 0.2 us)"
  echo "   direct: the worker threads' CPU inside the publisher + the producer's network thread (all; and over the second half"
  echo "   of the run-iterations published: steady); difference: the two processes' CPU (JIT, GC and training noise included)"
  printf "| R | publishing, direct (us) | steady (us) | process: compute (us) | process: publish-to (us) | difference (us) | compute wall (s) | publish-to wall (s) |\n"
  printf "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
  for r in "${runs[@]}"; do
    d=$(published "$r" publishing_us_per_run_iteration | median); st=$(published "$r" steady_us_per_run_iteration | median)
    c=$(field "$r" compute cpu_us_per_run_iteration | median); p=$(field "$r" publish-to cpu_us_per_run_iteration | median)
    cw=$(field "$r" compute seconds | median); pw=$(field "$r" publish-to seconds | median)
    awk -v r="$r" -v d="$d" -v dr="$(published "$r" publishing_us_per_run_iteration | range)" -v c="$c" -v p="$p" \
        -v st="$st" -v sr="$(published "$r" steady_us_per_run_iteration | range)" \
        -v cr="$(field "$r" compute cpu_us_per_run_iteration | range)" \
        -v pr="$(field "$r" publish-to cpu_us_per_run_iteration | range)" -v cw="$cw" -v pw="$pw" \
        'BEGIN {printf "| %d | %.4f (%s) | %.4f (%s) | %.3f (%s) | %.3f (%s) | %.3f | %.2f | %.2f |\n", r, d, dr, st, sr, c, cr, p, pr, p - c, cw, pw}'
  done
  exit 0
fi

if [ "${MODE:-}" = optimizers ]; then
  # The cost of an optimizer with per-run state on the ensemble engine: the same ensemble ("compute") with vanilla
  # SGD and with OPTIMIZER (default adam, eta 0.01 unless ETA says otherwise), interleaved; no peer.
  javac -d "$work/bench-classes" -cp "$cp" "$here/EnsembleBench.java"
  block="${BLOCK:-500}"
  other="${OPTIMIZER:-adam}"
  eta="${ETA:-0.01}"
  results="$work/results-optimizers-$dtype.txt"
  : > "$results"
  for r in "${runs[@]}"; do
    for rep in $(seq 1 "$repeats"); do
      for o in sgd "$other"; do
        step=0.1; [ "$o" = sgd ] || step="$eta"
        echo "== sgdscope ensemble engine, R = $r, compute, $dtype, optimizer $o (eta $step), blocks of $block, repeat $rep/$repeats"
        java $train_options ${BENCH_JAVA_OPTS:-} -Xmx8g -Dbench.optimizer="$o" -Dbench.learningRate="$step" \
            -cp "$work/bench-classes:$cp" EnsembleBench "$r" compute "$dtype" 2 "$block" 2>"$work/sgdscope-$r-$o.log" \
            | tee -a "$results"
      done
    done
  done
  median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
  range() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.2f-%.2f", lo, hi}'; }
  field() { awk -v r="runs=$1" -v o="optimizer=$2" -v f="$3=" '$1 == "RESULT" && $2 == r && $7 == o {
      for (i = 4; i <= NF; i++) if (index($i, f) == 1) {sub(f, "", $i); print $i}}' "$results"; }
  echo "== optimizers on the ensemble engine ($dtype, blocks of $block, 2 workers): medians of $repeats interleaved repeats"
  echo "   wall: the training loop; CPU: the process's user + system time over it (every thread)"
  printf "| R | sgd: wall (s) | CPU (s) | %s: wall (s) | CPU (s) | wall ratio | CPU ratio |\n" "$other"
  printf "| --- | --- | --- | --- | --- | --- | --- |\n"
  for r in "${runs[@]}"; do
    w0=$(field "$r" sgd seconds | median); c0=$(field "$r" sgd cpu_seconds | median)
    w1=$(field "$r" "$other" seconds | median); c1=$(field "$r" "$other" cpu_seconds | median)
    awk -v r="$r" -v w0="$w0" -v c0="$c0" -v w1="$w1" -v c1="$c1" -v w0r="$(field "$r" sgd seconds | range)" \
        -v c0r="$(field "$r" sgd cpu_seconds | range)" -v w1r="$(field "$r" "$other" seconds | range)" \
        -v c1r="$(field "$r" "$other" cpu_seconds | range)" \
        'BEGIN {printf "| %d | %.2f (%s) | %.2f (%s) | %.2f (%s) | %.2f (%s) | %.2f | %.2f |\n", r, w0, w0r, c0, c0r, w1, w1r, c1, c1r, w1 / w0, c1 / c0}'
  done
  exit 0
fi

if [ "${MODE:-}" = crosscheck ]; then
  javac -d "$work/bench-classes" -cp "$cp" "$here/ProbesCrossCheck.java"
  for r in "${runs[@]}"; do
    "$here/probes_peer.sh" "$r" --check
    "$here/probes_peer.sh" "$r" --dump "$work/probes-dump-$r.txt"
    java -cp "$work/bench-classes:$cp" ProbesCrossCheck "$work/probes-dump-$r.txt" 2>"$work/crosscheck-$r.log"
  done
  exit 0
fi

if [ "${MODE:-}" = probes ]; then
  # The cost of the curvature probes on the ensemble engine: the same ensemble ("compute") without probes and with
  # the moments of Eq. 4-7 and L every MOMENTS_EVERY iterations (default 10), then the PyTorch peer
  # (torch_probes_peer.py: the same training, moments and L, batched over runs) without and with them, interleaved.
  # Goals: ours with / ours without <= 2x; ours with / peer with <= 1.0x.
  javac -d "$work/bench-classes" -cp "$cp" "$here/EnsembleBench.java"
  block="${BLOCK:-500}"
  every="${MOMENTS_EVERY:-10}"
  peer="${PEER:-1}"
  if [ "$peer" = 1 ]; then
    rm -rf "$work/openblas"
    "$top/bench/openblas.sh" "$work/openblas"
  fi
  results="$work/results-probes-$dtype.txt"
  : > "$results"
  for r in "${runs[@]}"; do
    for rep in $(seq 1 "$repeats"); do
      for m in 0 "$every"; do
        echo "== sgdscope ensemble engine, R = $r, compute, $dtype, moments and L every $m (0: none), blocks of $block, repeat $rep/$repeats"
        java $train_options ${BENCH_JAVA_OPTS:-} -Xmx8g -Dbench.momentsEvery="$m" -cp "$work/bench-classes:$cp" \
            EnsembleBench "$r" compute "$dtype" 2 "$block" 2>"$work/sgdscope-$r-probes-$m.log" | tee -a "$results"
      done
      if [ "$peer" = 1 ]; then
        for m in 0 "$every"; do
          echo "== PyTorch peer (torch_probes_peer.py), R = $r, $dtype, moments and L every $m, repeat $rep/$repeats"
          "$here/probes_peer.sh" "$r" --dtype "$dtype" --every "$m" ${PEER_OPTS:-} 2>"$work/peer-$r-probes-$m.log" \
              | sed 's/^RESULT /PEER /' | tee -a "$results"
        done
      fi
    done
  done
  median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
  range() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.2f-%.2f", lo, hi}'; }
  field() { awk -v r="runs=$1" -v m="moments_every=$2" -v f="$3=" '$1 == "RESULT" && $2 == r && $NF == m {
      for (i = 4; i <= NF; i++) if (index($i, f) == 1) {sub(f, "", $i); print $i}}' "$results"; }
  pfield() { awk -v r="runs=$1" -v m="every=$2" -v f="$3=" '$1 == "PEER" && $2 == r {
      hit = 0; for (i = 3; i <= NF; i++) if ($i == m) hit = 1
      if (hit) for (i = 3; i <= NF; i++) if (index($i, f) == 1) {sub(f, "", $i); print $i}}' "$results"; }
  echo "== curvature probes on the ensemble engine ($dtype, blocks of $block, 2 workers): medians of $repeats interleaved repeats"
  echo "   wall: the training loop; CPU: the process's user + system time over it (every thread)"
  printf "| R | without probes: wall (s) | CPU (s) | moments + L every %s: wall (s) | CPU (s) | wall ratio | CPU ratio |\n" "$every"
  printf "| --- | --- | --- | --- | --- | --- | --- |\n"
  for r in "${runs[@]}"; do
    w0=$(field "$r" 0 seconds | median); c0=$(field "$r" 0 cpu_seconds | median)
    w1=$(field "$r" "$every" seconds | median); c1=$(field "$r" "$every" cpu_seconds | median)
    awk -v r="$r" -v w0="$w0" -v c0="$c0" -v w1="$w1" -v c1="$c1" -v w0r="$(field "$r" 0 seconds | range)" \
        -v c0r="$(field "$r" 0 cpu_seconds | range)" -v w1r="$(field "$r" "$every" seconds | range)" \
        -v c1r="$(field "$r" "$every" cpu_seconds | range)" \
        'BEGIN {printf "| %d | %.2f (%s) | %.2f (%s) | %.2f (%s) | %.2f (%s) | %.2f | %.2f |\n", r, w0, w0r, c0, c0r, w1, w1r, c1, c1r, w1 / w0, c1 / c0}'
  done
  if [ "$peer" = 1 ]; then
    echo "== side by side with the PyTorch peer ($dtype): CPU seconds, medians of $repeats interleaved repeats (ranges)"
    echo "   goals: ours with / ours without <= 2x; ours with / peer with <= 1.0x"
    printf "| R | ours without (s) | ours with (s) | peer without (s) | peer with (s) | ours with / without | peer with / without | ours with / peer with | ours without / peer without |\n"
    printf "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
    for r in "${runs[@]}"; do
      c0=$(field "$r" 0 cpu_seconds | median); c1=$(field "$r" "$every" cpu_seconds | median)
      p0=$(pfield "$r" 0 cpu_seconds | median); p1=$(pfield "$r" "$every" cpu_seconds | median)
      awk -v r="$r" -v c0="$c0" -v c1="$c1" -v p0="$p0" -v p1="$p1" \
          -v c0r="$(field "$r" 0 cpu_seconds | range)" -v c1r="$(field "$r" "$every" cpu_seconds | range)" \
          -v p0r="$(pfield "$r" 0 cpu_seconds | range)" -v p1r="$(pfield "$r" "$every" cpu_seconds | range)" \
          'BEGIN {printf "| %d | %.2f (%s) | %.2f (%s) | %.2f (%s) | %.2f (%s) | %.2f | %.2f | %.2f | %.2f |\n", r, c0, c0r, c1, c1r, p0, p0r, p1, p1r, c1 / c0, p1 / p0, c1 / p1, c0 / p0}'
    done
    echo "   the same in wall seconds (the training loop; the machine's load moves these far more than CPU)"
    printf "| R | ours without (s) | ours with (s) | peer without (s) | peer with (s) | ours with / without | ours with / peer with |\n"
    printf "| --- | --- | --- | --- | --- | --- | --- |\n"
    for r in "${runs[@]}"; do
      w0=$(field "$r" 0 seconds | median); w1=$(field "$r" "$every" seconds | median)
      q0=$(pfield "$r" 0 seconds | median); q1=$(pfield "$r" "$every" seconds | median)
      awk -v r="$r" -v w0="$w0" -v w1="$w1" -v q0="$q0" -v q1="$q1" \
          'BEGIN {printf "| %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", r, w0, w1, q0, q1, w1 / w0, w1 / q1}'
    done
  fi
  exit 0
fi

# The peer's OpenBLAS (peer.sh would fetch it too; here once, before anything is timed).
rm -rf "$work/openblas"
"$top/bench/openblas.sh" "$work/openblas"

# The harness is compiled once, as the product is a compiled jar (launched from source, javac would run
# inside the measured JVM and its JIT work would overlap the timing).
javac -d "$work/bench-classes" -cp "$cp" "$here/EnsembleBench.java"
# sgdscope's side runs with the JVM options the launcher gives `sgdscope train` (train_options, above).

results="$work/results-$dtype.txt"
: > "$results"
for r in "${runs[@]}"; do
  for rep in $(seq 1 "$repeats"); do                 # interleaved, so that drifts of the machine hit all three
    for mode in compute publish; do
      echo "== sgdscope ensemble engine, R = $r, $mode, $dtype (2 workers, -Xmx8g), repeat $rep/$repeats"
      java $train_options ${BENCH_JAVA_OPTS:-} -Xmx8g -cp "$work/bench-classes:$cp" EnsembleBench "$r" "$mode" "$dtype" \
          2>"$work/sgdscope-$r-$mode.log" | tee -a "$results"
    done
    echo "== PyTorch peer, R = $r, $dtype, repeat $rep/$repeats"
    "$here/peer.sh" "$r" --dtype "$dtype" | tee -a "$results"
  done
done

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }
range() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.2f-%.2f", lo, hi}'; }
echo "== ratios sgdscope / PyTorch ($dtype; goals: compute <= 1.0, publish <= 1.5): medians of $repeats interleaved repeats"
printf "| R | sgdscope compute (s) | sgdscope publish (s) | PyTorch (s) | compute ratio | publish ratio |\n"
printf "| --- | --- | --- | --- | --- | --- |\n"
for r in "${runs[@]}"; do
  compute=$(awk -v r="runs=$r" '$1 == "RESULT" && $2 == r && $3 == "mode=compute" {sub("seconds=", "", $4); print $4}' "$results")
  publish=$(awk -v r="runs=$r" '$1 == "RESULT" && $2 == r && $3 == "mode=publish" {sub("seconds=", "", $4); print $4}' "$results")
  peer=$(awk -v r="runs=$r" '$1 == "RESULT" && $2 == r && $3 ~ /^seconds=/ {sub("seconds=", "", $3); print $3}' "$results")
  c=$(echo "$compute" | median); p=$(echo "$publish" | median); t=$(echo "$peer" | median)
  awk -v r="$r" -v c="$c" -v p="$p" -v t="$t" -v cr="$(echo "$compute" | range)" -v pr="$(echo "$publish" | range)" \
      -v tr="$(echo "$peer" | range)" \
      'BEGIN {printf "| %d | %.2f (%s) | %.2f (%s) | %.2f (%s) | %.2f | %.2f |\n", r, c, cr, p, pr, t, tr, c / t, p / t}'
done
