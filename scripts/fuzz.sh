#!/usr/bin/env bash
# Fuzzes the .npy reader (magic, version, the header's Python literal, the data) with libFuzzer
# under AddressSanitizer for a bounded time, with a dictionary of header tokens
# (Fuzz/npy-header.dict) so mutations reach the header parser.
#   scripts/fuzz.sh [SECONDS]      (default 60)
# The seed corpus is Fuzz/corpus/npy (also replayed by the unit tests); new inputs found go to
# .build-fuzz/corpus. A crash leaves crash-* in the current directory and fails the script: add
# the input to Fuzz/corpus/npy so it becomes a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
seconds="${1:-60}"
TESSERA_FUZZ=1 swift build --product tessera-fuzz-npy --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xlinker -lstdc++ 2>&1 | tail -3
mkdir -p .build-fuzz/corpus
.build-fuzz/debug/tessera-fuzz-npy -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=4096 \
    -dict=Fuzz/npy-header.dict -print_final_stats=1 .build-fuzz/corpus Fuzz/corpus/npy
