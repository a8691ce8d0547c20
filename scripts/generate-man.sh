#!/usr/bin/env bash
# Generates the man page docs/tessera.1 from the CLI's own definitions (the same
# swift-argument-parser commands, options and help texts as `tessera --help` and the shell
# completions), with swift-argument-parser's generate-manual plugin. It builds the package in
# release mode first (as the plugin does). Read it with `man ./docs/tessera.1`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
swift package plugin --allow-writing-to-package-directory generate-manual --authors "the Tessera authors" --section 1
page="$(find .build/plugins/GenerateManual/outputs -name tessera.1 | head -1)"
[ -n "$page" ] || { echo "generate-man: the plugin wrote no tessera.1" >&2; exit 1; }
cp "$page" docs/tessera.1
echo "wrote docs/tessera.1"
