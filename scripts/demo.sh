#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build in release mode, run the demo.
# Extra arguments go to `tessera demo` (see `.build/release/tessera demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product tessera >&2
exec .build/release/tessera demo "$@"
