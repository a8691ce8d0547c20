#!/usr/bin/env bash
# Quick start, command 2: install what is missing, check that every target imports exactly the
# dependencies Package.swift declares (scripts/check-imports.sh), and run the whole test suite:
# the Swift tests, the CLI's progress line under a pseudo-terminal (scripts/test-progress.py), the
# README's example commands on small sizes (scripts/check-docs.py), the C interface's test
# (scripts/test-c.sh), the Python package's tests on the package as pip installs it
# (scripts/test-python.sh) and the Open MPI tests, 1/2/4 ranks (scripts/test-mpi.sh; skipped
# without mpirun or when tessera was built without Open MPI).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/check-imports.sh
swift test "$@"
scripts/test-mpi.sh
python3 scripts/test-progress.py
python3 scripts/check-docs.py
scripts/test-c.sh
scripts/test-python.sh
