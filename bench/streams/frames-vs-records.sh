#!/usr/bin/env bash
# The quantiles and deviation apps on the same telemetry as per-run IterationMetrics records and as
# IterationFrames of 500 runs: 3 interleaved repeats (records, frames, records, frames, ...), each a fresh
# broker filled anew, then the medians. Usage: bench/streams/frames-vs-records.sh [--runs R] [--iterations T]
# (other options go to run.sh). Prints one line per repeat and the medians; logs in $BENCH_LOGS (a temp folder).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
logs="${BENCH_LOGS:-$(mktemp -d /tmp/sgdscope-frames-vs-records-XXXXXX)}"
repeats="${BENCH_REPEATS:-3}"
echo "logs: $logs"
first=1
for repeat in $(seq 1 "$repeats"); do
    for frames in 0 500; do
        build=1
        [ "$first" = 1 ] || build=0
        first=0
        BENCH_NO_BUILD=$((1 - build)) bench/streams/run.sh --runs 10000 --iterations 400 --frame-runs "$frames" \
            --phases fill,consumer,quantiles,deviation "$@" > "$logs/repeat$repeat-frames$frames.log" 2>&1
        grep -E '^\| (plain consumer|quantiles app|deviation app) ' "$logs/repeat$repeat-frames$frames.log" \
            | sed "s/^/repeat $repeat, frame-runs $frames: /"
    done
done
python3 - "$logs" <<'PY'
import glob, re, statistics, sys
rates = {}
for path in sorted(glob.glob(sys.argv[1] + "/repeat*-frames*.log")):
    frames = re.search(r"frames(\d+)", path).group(1)
    for line in open(path):
        m = re.match(r"\| (plain consumer|quantiles app|deviation app)[^|]*\| ([\d,]+) run-iterations/s", line)
        if not m:
            continue
        cpu = re.search(r"([\d,]+) run-iterations per CPU second", line)
        key = (m.group(1), frames)
        rates.setdefault(key, []).append((float(m.group(2).replace(",", "")),
                                          float(cpu.group(1).replace(",", "")) if cpu else float("nan")))
print("\n| reader | workload | median run-iterations/s (wall) | median per CPU second of the stream thread | repeats |")
print("| --- | --- | --- | --- | --- |")
for (reader, frames), values in sorted(rates.items()):
    wall = statistics.median(v[0] for v in values)
    cpu = statistics.median(v[1] for v in values)
    workload = "frames of %s runs" % frames if frames != "0" else "per-run records"
    print("| %s | %s | %s | %s | %s |" % (reader, workload, format(round(wall), ","),
          "–" if cpu != cpu else format(round(cpu), ","), ", ".join(format(round(v[0]), ",") for v in values)))
PY
