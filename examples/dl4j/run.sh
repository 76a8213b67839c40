#!/usr/bin/env bash
# Trains the paper's Gauss-10 experiment with DeepLearning4J (a MultiLayerNetwork 50-10-30-10, ReLU, softmax
# cross-entropy, float64, SGD lr 0.1, batch 5) for RUNS runs, each watched by sgdscope's listener
# (io.sgdscope.dl4j.SgdscopeTrainingListener) and published to the Kafka cluster at BOOTSTRAP, where the streams
# apps (./sgdscope streams, or ./sgdscope demo --hold) show it like any built-in experiment. The listener also runs the
# curvature probes on the training set: moments of Eq. 4-7 and L every 10 iterations (in IterationMetrics), a
# SpectrumSnapshot every 50, and with SNAPSHOT_DIR snapshot folders SNAPSHOT_DIR/<runId>/<t>/ at t = 0 and ITERATIONS/2.
# Usage: examples/dl4j/run.sh BOOTSTRAP EXPERIMENT [RUNS=3] [ITERATIONS=200] [SNAPSHOT_DIR]
#   KAFKA_CONFIG=FILE  Kafka client properties for a secured cluster (the --kafka-config format)
# On first use, and whenever a source file or POM is newer than its build, it builds the client, dl4j and trainer
# modules with the Maven wrapper (the data is the built-in trainer's Gauss-10 set) and compiles the example.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if [ $# -lt 2 ] || [ $# -gt 5 ]; then
  echo "usage: examples/dl4j/run.sh BOOTSTRAP EXPERIMENT [RUNS=3] [ITERATIONS=200] [SNAPSHOT_DIR]" >&2
  exit 2
fi
bootstrap="$1" experiment="$2" runs="${3:-3}" iterations="${4:-200}" snapshots="${5:-}"

if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
  bin="$JAVA_HOME/bin"
elif command -v javac >/dev/null 2>&1; then
  bin="$(dirname "$(readlink -f "$(command -v javac)")")"
else
  echo "examples/dl4j: no JDK found: install a JDK 17 or newer (or set JAVA_HOME)" >&2
  exit 1
fi

build="$here/target"
stamp="$build/classes/Dl4jGauss10.class"
needs_build() {
  [ -f "$stamp" ] || return 0
  [ -n "$(find "$root" -path "$root/.git" -prune -o \( -path '*/src/main/*' -o -name pom.xml -o -path "$here/*.java" \) \
      -newer "$stamp" -print -quit 2>/dev/null)" ]
}
if needs_build; then
  echo "examples/dl4j: building the client, dl4j and trainer modules with the Maven wrapper (first use or sources changed)..." >&2
  if ! (cd "$root" && ./mvnw -B -q -pl dl4j,trainer -am package -DskipTests dependency:build-classpath \
        -Dmdep.includeScope=runtime -Dmdep.outputFile=target/example-classpath.txt >&2); then
    echo "examples/dl4j: the build failed (run './mvnw -B -pl dl4j,trainer -am package -DskipTests' to see why)" >&2
    exit 1
  fi
fi
cp="$root/dl4j/target/classes:$root/trainer/target/classes:$(cat "$root/dl4j/target/example-classpath.txt"):$(cat "$root/trainer/target/example-classpath.txt")"
if needs_build; then
  mkdir -p "$build/classes"
  "$bin/javac" -d "$build/classes" -cp "$cp" "$here/Dl4jGauss10.java"
fi
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
exec "$bin/java" ${EXAMPLE_JAVA_OPTS:-} -cp "$build/classes:$cp" Dl4jGauss10 "$bootstrap" "$experiment" "$runs" "$iterations" "$snapshots"
