#!/usr/bin/env bash
# Runs every benchmark script under bench/ in a tiny setting, so that none of them can break unseen: each
# builds what it needs, runs both sides and must print its final table. Seconds per script (after the
# build), nothing timed or compared: these numbers mean nothing. .ci/run calls it after the tests.
# Needs what the benchmarks need: a JDK, unzip, /usr/bin/python3 with torch and numpy (Debian's
# python3-torch) for the PyTorch peers, confluent_kafka and avro for the Python client's benchmark.
# Usage: bench/smoke.sh        (from anywhere; exits non-zero if a script fails or prints no result)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
logs="$(mktemp -d /tmp/sgdscope-bench-smoke-XXXXXX)"
failed=()

# smoke NAME EXPECTED COMMAND...: runs COMMAND, then looks for the line EXPECTED (a grep -E pattern) in its output.
smoke() {
  local name="$1" expected="$2"
  shift 2
  local log="$logs/$name.log" start=$SECONDS
  echo "== bench smoke: $name: $*"
  if "$@" >"$log" 2>&1 && grep -Eq "$expected" "$log"; then
    echo "   ok ($((SECONDS - start)) s)"
  else
    echo "   FAILED ($((SECONDS - start)) s); the end of its output ($log):"
    tail -n 40 "$log" | sed 's/^/   | /'
    failed+=("$name")
  fi
}

smoke curvature '^\| lanczos-M \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|$' \
    env SAMPLES=200 "$here/curvature/run.sh" 1 1
smoke spectra '^MEDIAN ratio warm/cold variant=probe [0-9.]+ over 3 ' \
    env SAMPLES=200 TIMES=0,2 "$here/spectra/run.sh"
smoke dl4j-probes '^RESULT trainer-spectrum-cold [0-9.]+ s' \
    "$here/dl4j-probes/run.sh" 1 16 2
smoke ensemble '^\| 20 \| [0-9.]+ .*\| [0-9.]+ \| [0-9.]+ \|$' \
    env REPEATS=1 "$here/ensemble/run.sh" 20
smoke demo '^ensemble: median Training [0-9.]+ s' \
    env REPEATS=1 RUNS=4 ITERATIONS=20 "$here/demo/run.sh"
smoke ensemble-probes '^\| 20 \|.*\| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|$' \
    env REPEATS=1 MODE=probes DTYPE=float64 "$here/ensemble/run.sh" 20
smoke ensemble-probes-crosscheck '^CROSSCHECK runs=2 .* passed$' \
    env MODE=crosscheck "$here/ensemble/run.sh" 2
smoke e2e '^\| live lag \(iterations\) \| [0-9]+ \| <= 5 ' \
    env REPEATS=1 "$here/e2e/run.sh" 50
smoke dl4j '^\| listener \| [0-9.]+ \| [-+][0-9.]+ % \|$' \
    env REPEATS=1 BATCH=16 PROBE=100 "$here/dl4j/run.sh" 60
smoke streams '^\| latency: produce → frontier band on /metrics \| p50 ' \
    env BENCH_HEAP=1g "$here/streams/run.sh" --runs 20 --iterations 20 --rate 200 --latency-runs 10 \
    --latency-seconds 2 --warmup-seconds 1
smoke pytorch-client '^\| overhead \| [-+][0-9.]+ % \| goal <= 5 % \|$' \
    env REPEATS=1 "$here/pytorch-client/run.sh" 100

if [ "${#failed[@]}" -gt 0 ]; then
  echo "bench smoke: failed: ${failed[*]} (logs in $logs)" >&2
  exit 1
fi
rm -rf "$logs"
echo "bench smoke: all benchmark scripts ran"
