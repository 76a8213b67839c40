# Sourced by the benchmark scripts whose JVMs or PyTorch peers call ND4J's OpenBLAS: bench/demo/run.sh,
# bench/pytorch-client/run.sh. They run with the OpenBLAS kernels ./sgdscope names for this CPU (README.md, "Speed on
# newer CPUs": its generic Prescott kernels replaced where OpenBLAS does not know the CPU), so that `java -jar` and
# the peers run as the launcher runs a command.

# use_launcher_openblas_kernels TOP: runs TOP/sgdscope --version (which builds the jar if needed and writes
# cli/target/openblas-kernels), exports OPENBLAS_CORETYPE as named there unless it is set already, and prints the
# kernels used.
use_launcher_openblas_kernels() {
  local named
  "$1/sgdscope" --version >/dev/null
  named="$(sed -n 3p "$1/cli/target/openblas-kernels" 2>/dev/null || true)"
  if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -n "$named" ]; then
    export OPENBLAS_CORETYPE="$named"
  fi
  echo "== OpenBLAS kernels: ${OPENBLAS_CORETYPE:-as OpenBLAS detects them}"
}
