#!/usr/bin/env bash
# Runs the PyTorch ensemble peer (torch_peer.py, see PEER.md) in its measured setting:
#   OMP_WAIT_POLICY=PASSIVE (libgomp's spinning costs several times on this 2-core machine when another
#   process wants a core) and libblas.so.3 / liblapack.so.3 pointed, for this process only, at the
#   OpenBLAS 0.3.19 of the org.bytedeco:openblas linux-x86_64 jar (the BLAS ND4J uses; Debian's
#   python3-torch otherwise calls the system's reference libblas.so.3), as bench/curvature/run.sh does:
#   bench/openblas.sh puts it into target/openblas on first use.
# Usage: bench/ensemble/peer.sh R [--iterations 400] [--dtype float32|float64] [--repeats 1] [...]
#   PEER_SCRIPT=torch_probes_peer.py: another peer of this folder in the same setting (bench/ensemble/probes_peer.sh)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
blas="$here/target/openblas"
if [ ! -e "$blas/libblas.so.3" ]; then
  "$here/../openblas.sh" "$blas"
fi
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
LD_LIBRARY_PATH="$blas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec /usr/bin/python3 "$here/${PEER_SCRIPT:-torch_peer.py}" "$@"
