#!/usr/bin/env bash
# Puts the OpenBLAS that ND4J uses (the org.bytedeco:openblas linux-x86_64 jar of the version in pom.xml)
# into DIR as libopenblas.so.0, with libblas.so.3 and liblapack.so.3 pointing at it, for the PyTorch
# peers: with LD_LIBRARY_PATH=DIR, Debian's python3-torch (BLAS_INFO=generic) calls that BLAS instead of
# the system's reference libblas.so.3. Maven fetches the jar if the local repository does not hold it.
# Usage: bench/openblas.sh DIR     (from anywhere; used by bench/curvature/run.sh and bench/ensemble/peer.sh)
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(mkdir -p "$1" && cd "$1" && pwd)"
version="$(sed -n 's:.*<openblas.version>\(.*\)</openblas.version>.*:\1:p' "$top/pom.xml")"
[ -n "$version" ] || { echo "bench/openblas.sh: no <openblas.version> in $top/pom.xml" >&2; exit 1; }
jars="$dir/jars"
rm -rf "$jars" && mkdir -p "$jars"
(cd "$top" && ./mvnw -B -q -N dependency:copy -Dartifact="org.bytedeco:openblas:$version:jar:linux-x86_64" \
    -DoutputDirectory="$jars")
unzip -q -o -j "$jars/openblas-$version-linux-x86_64.jar" 'org/bytedeco/openblas/linux-x86_64/*.so*' -d "$dir"
rm -rf "$jars"
ln -sf libopenblas.so.0 "$dir/libblas.so.3"
ln -sf libopenblas.so.0 "$dir/liblapack.so.3"
