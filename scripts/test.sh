#!/usr/bin/env bash
# Quick start, command 2: install what is missing, check that every target imports exactly the
# dependencies Package.swift declares (scripts/check-imports.sh), and run the whole test suite:
# the Swift tests, then the C interface's test (scripts/test-c.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/check-imports.sh
swift test "$@"
scripts/test-c.sh
