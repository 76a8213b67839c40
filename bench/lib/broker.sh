# Sourced by the benchmark scripts that publish to a Kafka broker in a process of its own
# (bench/ensemble/BenchBroker.java, an embedded KRaft broker on a free port): bench/ensemble/run.sh,
# bench/dl4j/run.sh, bench/pytorch-client/run.sh.

# start_broker WORK CLASSPATH [TRIES]: starts BenchBroker (compiled into WORK/bench-classes; CLASSPATH is what it
# needs besides), its output in WORK/broker.out and WORK/broker.log, and waits up to TRIES half-seconds (default 120)
# for it to print its bootstrap servers. Sets $broker (its pid) and $bootstrap (empty if it did not start: then it
# returns 1 and the caller says so). The broker serves until file descriptor 3, held open here, closes (stop_broker).
start_broker() {
  local work="$1" cp="$2" tries="${3:-120}"
  rm -f "$work/broker.in"; mkfifo "$work/broker.in"
  java -Xmx1g -cp "$work/bench-classes:$cp" BenchBroker <"$work/broker.in" >"$work/broker.out" 2>"$work/broker.log" &
  broker=$!
  exec 3>"$work/broker.in"                              # the broker serves until this closes
  for _ in $(seq 1 "$tries"); do grep -q '^BOOTSTRAP ' "$work/broker.out" && break; sleep 0.5; done
  bootstrap="$(awk '$1 == "BOOTSTRAP" {print $2}' "$work/broker.out")"
  [ -n "$bootstrap" ]
}

# stop_broker: closes the broker's descriptor 3 and waits for it to end (for an EXIT trap: never fails).
stop_broker() {
  exec 3>&-
  wait "$broker" 2>/dev/null || true
}
