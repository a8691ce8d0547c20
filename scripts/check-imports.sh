#!/usr/bin/env bash
# Layer check: every module a target's Swift sources import must be a dependency the target
# declares directly in Package.swift, and every declared dependency must be imported somewhere
# in the target (executable targets, which tests depend on to have them built, are exempt).
# System modules (Glibc, Foundation, Dispatch, XCTest, …) need no declaration.
#
# The declared dependencies come from `swift package dump-package`, so the check follows
# Package.swift as it changes. (`swift build --explicit-target-dependency-import-check error`
# does not catch these on Linux with Swift 6.3: a module reachable through another dependency
# passes.) Exit status 1 lists every violation.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

manifest="$(mktemp)"
trap 'rm -f "$manifest"' EXIT
swift package dump-package > "$manifest"
MANIFEST="$manifest" python3 - <<'PYTHON'
import json, os, re, sys

SYSTEM = {"Swift", "Glibc", "Musl", "Darwin", "Foundation", "FoundationEssentials", "Dispatch",
          "Synchronization", "XCTest", "Testing", "_Concurrency", "_StringProcessing", "RegexBuilder",
          "CoreFoundation", "os", "Android", "WinSDK", "ucrt"}
IMPORT = re.compile(r"^\s*(?:@[A-Za-z_]+(?:\([^)]*\))?\s+)*import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?([A-Za-z_][A-Za-z0-9_]*)")

CAN_IMPORT = re.compile(r"^\s*#if\s+(?:canImport\(([A-Za-z_][A-Za-z0-9_]*)\)|(TESSERA_MPI))\s*$")
# `#if TESSERA_MPI` (Package.swift defines it with the distributed layer) guards TesseraDistributed.
GUARDED = {"TESSERA_MPI": "TesseraDistributed"}

package = json.load(open(os.environ["MANIFEST"]))
targets = {t["name"]: t for t in package["targets"]}
problems = []
for t in package["targets"]:
    if t["type"] in ("system", "binary", "plugin", "macro"):
        continue
    path = t.get("path") or os.path.join("Tests" if t["type"] == "test" else "Sources", t["name"])
    declared = {}
    for dep in t["dependencies"]:
        kind, value = next(iter(dep.items()))
        declared[value[0]] = kind
    imported = set()
    swift_files = 0
    for root, _, files in os.walk(path):
        for f in files:
            if not f.endswith(".swift"):
                continue
            swift_files += 1
            with open(os.path.join(root, f), encoding="utf-8") as source:
                in_string = False   # inside a multi-line string literal (may quote other languages)
                guards = []         # the `#if` lines around this one: a module name for `#if canImport(M)`
                for line in source:
                    if not in_string:
                        g = CAN_IMPORT.match(line)
                        if g:
                            guards.append(g.group(1) or GUARDED[g.group(2)])
                        elif re.match(r"^\s*#if\b", line):
                            guards.append(None)
                        elif re.match(r"^\s*#endif\b", line) and guards:
                            guards.pop()
                        m = IMPORT.match(line)
                        # `#if canImport(M)` / `import M` of an optional target (TesseraDistributed
                        # without Open MPI) that this configuration leaves out: not a dependency.
                        if m and not (m.group(1) in guards and m.group(1) not in targets):
                            imported.add(m.group(1))
                    if line.count('"""') % 2 == 1:
                        in_string = not in_string
    if swift_files == 0:
        continue
    for module in sorted(imported - SYSTEM - {t['name']}):
        if module not in declared:
            problems.append(f"{t['name']}: imports {module} but does not declare it in Package.swift")
    for name in sorted(declared):
        if name in imported:
            continue
        if name in targets and targets[name]["type"] == "executable":
            continue
        problems.append(f"{t['name']}: declares {name} but no source file imports it")
for p in problems:
    print("check-imports: " + p)
if problems:
    sys.exit(1)
print(f"check-imports: {len(targets)} targets, imports match Package.swift")
PYTHON
