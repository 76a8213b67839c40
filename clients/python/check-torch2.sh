#!/usr/bin/env bash
# The Python client under PyTorch 2.x: runs its pytest suite (clients/python/tests, examples/pytorch) and
# PythonClientIT (the example against a real broker, the Java serdes, the streams apps, the snapshot checks) with
# the python3 of a Debian 13 ("trixie") root made by debootstrap, whose python3-torch is 2.6 (Debian 12, this
# project's machine, ships 1.13, which `./mvnw -B verify` tests). Nothing is downloaded but Debian packages.
#
# Usage: clients/python/check-torch2.sh [--pytest-only | --prepare] [--help]
#   --pytest-only   skip PythonClientIT (no Maven build; about 15 s once the root exists)
#   --prepare       only make the root (if it is not there yet) and exit: .ci/run does this in the background
#                   while the test command runs
# Environment:
#   SGDSCOPE_TORCH2_ROOT    where the root is made and kept for the next run (default /var/tmp/sgdscope-torch2-root;
#                           about 1.6 GB; delete it to start again)
#   SGDSCOPE_TORCH2_SUITE   the Debian suite (default trixie)
#   SGDSCOPE_TORCH2_MIRROR  the Debian mirror (default http://deb.debian.org/debian)
# Needs root (debootstrap, mount, chroot) and Debian's debootstrap (installed with apt-get when missing). The
# repository, /tmp and /proc are bind-mounted into the root at the same paths (so the Java tests and the Python
# processes see the same files) while it runs, and unmounted when it ends, also on failure.
# Exit status: 0 when every test passed, 1 when one failed, 2 for a usage or set-up error (said in one line).
set -euo pipefail

pytest_only=false
prepare_only=false
for arg in "$@"; do
  case "$arg" in
    --pytest-only) pytest_only=true ;;
    --prepare) prepare_only=true ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-torch2.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

repo=$(cd "$(dirname "$0")/../.." && pwd -P)
root=${SGDSCOPE_TORCH2_ROOT:-/var/tmp/sgdscope-torch2-root}
suite=${SGDSCOPE_TORCH2_SUITE:-trixie}
mirror=${SGDSCOPE_TORCH2_MIRROR:-http://deb.debian.org/debian}
packages=python3-torch,python3-numpy,python3-avro,python3-confluent-kafka,python3-pandas,python3-pytest

if [ "$(id -u)" -ne 0 ]; then
  echo "check-torch2.sh: needs root (debootstrap, mount and chroot); run it with sudo" >&2
  exit 2
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "== installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null \
    || { echo "check-torch2.sh: could not install debootstrap with apt-get" >&2; exit 2; }
fi

if [ ! -e "$root/.sgdscope-torch2-ready" ]; then
  echo "== making a Debian $suite root with $packages in $root (about 2 min and 1.6 GB)"
  rm -rf "$root"
  mkdir -p "$root"
  if ! debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" > "$root.log" 2>&1; then
    echo "check-torch2.sh: debootstrap of $suite from $mirror failed; its log: $root.log" >&2
    exit 2
  fi
  touch "$root/.sgdscope-torch2-ready"
fi
if [ "$prepare_only" = true ]; then
  echo "== the Debian $suite root is ready in $root"
  exit 0
fi

mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
bind() {  # bind-mounts $1 at the same path inside the root
  mkdir -p "$root$1"
  mount --bind "$1" "$root$1" || { echo "check-torch2.sh: could not bind-mount $1 into $root" >&2; exit 2; }
  mounted+=("$root$1")
}
mkdir -p "$root/proc"
mount -t proc proc "$root/proc" || { echo "check-torch2.sh: could not mount /proc into $root" >&2; exit 2; }
mounted+=("$root/proc")
bind /tmp
bind "$repo"

# The interpreter the tests are given: the root's python3, in the caller's working directory and environment.
python="$repo/clients/python/target/torch2/python3"
mkdir -p "$(dirname "$python")"
cat > "$python" <<EOF
#!/bin/sh
exec chroot '$root' /usr/bin/env -C "\$PWD" PYTHONDONTWRITEBYTECODE=1 python3 "\$@"
EOF
chmod +x "$python"

version=$("$python" -c 'import torch; print(torch.__version__)' 2>/dev/null | tail -1)
case "$version" in
  2.*) echo "== PyTorch $version (Debian $suite) in $root" ;;
  *) echo "check-torch2.sh: the root's python3 has torch '$version', not 2.x" >&2; exit 2 ;;
esac

echo "== pytest: clients/python/tests and examples/pytorch under PyTorch $version"
(cd "$repo/clients/python" && PYTHONPATH=src OMP_WAIT_POLICY=PASSIVE \
  "$python" -m pytest -q -p no:cacheprovider tests ../../examples/pytorch) || exit 1

if [ "$pytest_only" = false ]; then
  echo "== PythonClientIT under PyTorch $version"
  (cd "$repo" && ./mvnw -B -q verify -pl cli -am -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false \
    -Dit.test=PythonClientIT -Dfailsafe.failIfNoSpecifiedTests=false -Dsgdscope.python="$python") || exit 1
fi
echo "== the Python client passed its tests under PyTorch $version"
