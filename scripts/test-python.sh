#!/usr/bin/env bash
# The Python package's tests, on the package as a user installs it: `pip install
# --no-build-isolation ./python` (offline: it builds libTesseraC in release mode and ships it with
# the Swift runtime inside the package) into a temporary folder, then pytest on python/tests with
# no TESSERA_LIBRARY set. pytest fails when it collects no test. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
site="$(mktemp -d)"
trap 'rm -rf "$site"' EXIT
python3 -m pip install -q --no-build-isolation --no-deps --target "$site" ./python
rm -rf python/build python/*.egg-info
env -u TESSERA_LIBRARY PYTHONPATH="$site" python3 -m pytest -q -p no:cacheprovider python/tests
