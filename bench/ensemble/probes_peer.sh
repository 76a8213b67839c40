#!/usr/bin/env bash
# Runs the PyTorch peer of the ensemble curvature probes (torch_probes_peer.py) in peer.sh's measured setting:
# OMP_WAIT_POLICY=PASSIVE, OPENBLAS_NUM_THREADS=1 and OpenBLAS 0.3.19 (ND4J's) as libblas.so.3 / liblapack.so.3.
# Usage: bench/ensemble/probes_peer.sh R [--every 10] [--dtype float64] [--check] [...]
set -euo pipefail
PEER_SCRIPT=torch_probes_peer.py exec "$(cd "$(dirname "$0")" && pwd)/peer.sh" "$@"
