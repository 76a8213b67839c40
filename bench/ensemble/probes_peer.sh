#!/usr/bin/env bash
# Runs the PyTorch peer of the ensemble curvature probes (torch_probes_peer.py) in peer.sh's measured setting:
# OMP_WAIT_POLICY=PASSIVE, OPENBLAS_NUM_THREADS=1 and OpenBLAS 0.3.19 (ND4J's) as libblas.so.3 / liblapack.so.3.
# Usage: bench/ensemble/probes_peer.sh R [--every 10] [--dtype float64] [--check] [...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
blas="$here/target/openblas"
if [ ! -e "$blas/libblas.so.3" ]; then
  "$here/../openblas.sh" "$blas"
fi
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
LD_LIBRARY_PATH="$blas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec /usr/bin/python3 "$here/torch_probes_peer.py" "$@"
