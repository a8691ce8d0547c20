#!/usr/bin/env bash
# Installs the system libraries Tessera links against, only when they are missing.
# Needs root (or sudo) for apt-get; does nothing when everything is already there.
set -euo pipefail
missing=()
# Open MPI (libopenmpi-dev for mpi.h and libmpi, openmpi-bin for mpirun) is optional for the
# build: with it Package.swift adds the distributed layer (docs/DISTRIBUTED.md) and the tests run
# scripts/test-mpi.sh.
for pkg in libopenblas-dev libhwloc-dev libopenmpi-dev openmpi-bin; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift is not on PATH: install a Swift 6.1+ toolchain" >&2; exit 1; }
# The Python package: NumPy (its one dependency) and wheel (to build it offline with setuptools);
# its tests: pytest, scikit-learn for the estimator's clone/grid-search tests, and matplotlib for
# plot_convergence and the README's plotting command; from the package index, only when missing.
command -v python3 >/dev/null || { echo "python3 is not on PATH: install Python 3.9+" >&2; exit 1; }
py_missing=()
for mod in numpy pytest sklearn wheel matplotlib; do
  python3 -c "import $mod" 2>/dev/null || py_missing+=("$mod")
done
if [ ${#py_missing[@]} -gt 0 ]; then
  pkgs=("${py_missing[@]/sklearn/scikit-learn}")
  echo "installing Python packages: ${pkgs[*]}" >&2
  python3 -m pip install -q "${pkgs[@]}" || python3 -m pip install -q --break-system-packages "${pkgs[@]}"
fi
