#!/usr/bin/env bash
# The C interface's test: builds libTesseraC (debug) and Tests/C/abi_test.c against the public
# header only, runs it, and builds the C example. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product TesseraC "$@"
lib="$(swift build --show-bin-path "$@")"
out="$lib/c-tests"
mkdir -p "$out"
cc -std=c11 -Wall -Wextra -Werror -I Sources/CTessera/include Tests/C/abi_test.c -L "$lib" -lTesseraC -lopenblas -lpthread -lm \
   -Wl,-rpath,"$lib" -o "$out/abi_test"
cc -std=c11 -Wall -Wextra -Werror -I Sources/CTessera/include Examples/c/solve_gram.c -L "$lib" -lTesseraC -lm \
   -Wl,-rpath,"$lib" -o "$out/solve_gram"
"$out/abi_test"
