#!/usr/bin/env python3
"""Checks that the README's examples run as written and say what the README says (run by
scripts/test.sh).

- Every `$ ` line in the README's code blocks runs, in order, in one scratch folder (with
  `tessera` the release build and `scripts/` this repository's), and must exit 0 — or 3 when its
  shown output says the tolerance was "NOT met". Each shown output line's label (its first
  word) must appear at the start of a line of the real output, with the same ending status
  (`→ converged`) and the same verdict (`: met` / `NOT met`); `...` stands for lines not shown.
  The plotting command is skipped, with a note, when matplotlib is not installed, and the
  `mpirun` example (and its `cmp`) when mpirun is missing or tessera was built without Open MPI.
- The quick-start commands exist and `.ci/run` runs both; `tessera --version` prints one line
  naming OpenBLAS's core; the completion scripts generate; the committed man page documents every
  subcommand; the README's JSON reports hold one residual per iteration; the README is under
  200 lines; and every relative link in README.md and docs/*.md points at a file that exists.

Usage: scripts/check-docs.py [path/to/tessera]   (default .build/release/tessera, built or brought up to date first)
"""
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def tessera_binary():
    if len(sys.argv) > 1:
        return os.path.abspath(sys.argv[1])
    # Always build (incremental, seconds when up to date): a stale binary would test old code.
    subprocess.run(["swift", "build", "-c", "release", "--product", "tessera"], cwd=ROOT, check=True)
    return os.path.join(ROOT, ".build", "release", "tessera")


def examples(markdown):
    """[(command, [shown output lines])] from the fenced blocks, in order."""
    out = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", markdown, flags=re.S | re.M):
        for line in block.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            elif out and block.lstrip().startswith("$ "):
                out[-1][1].append(line)
    return out


def label(line):
    return line.split()[0] if line.split() else ""


def compare(shown, actual_lines):
    """Messages for shown lines whose label, status or verdict the real output does not match."""
    problems = []
    for line in shown:
        if line.strip() in ("", "..."):
            continue
        name = label(line)
        candidates = [a for a in actual_lines if label(a) == name]
        if not candidates:
            problems.append(f"no '{name}' line in the output")
            continue
        status = re.search(r"→ ([\w-]+)", line)
        if status and not any(f"→ {status.group(1)}" in a for a in candidates):
            problems.append(f"'{name}' should end '→ {status.group(1)}': {candidates[0]!r}")
        for verdict in (": met", "NOT met"):
            if verdict in line and not any(verdict in a for a in candidates):
                problems.append(f"'{name}' should say '{verdict}': {candidates[0]!r}")
    return problems


def main():
    binary = tessera_binary()
    readme = open(os.path.join(ROOT, "README.md")).read()
    check(readme.count("\n") < 200, f"README.md is under 200 lines ({readme.count(chr(10))})")

    # The quick start: both commands exist and CI runs both.
    ci = open(os.path.join(ROOT, ".ci", "run")).read()
    for command in ("./scripts/demo.sh", "./scripts/test.sh"):
        check(f"\n{command}\n" in readme, f"the quick start shows {command}")
        check(os.access(os.path.join(ROOT, command), os.X_OK), f"{command} exists and is executable")
        check(re.search(rf"^{re.escape(command)}\b", ci, flags=re.M) is not None, f".ci/run runs {command}")

    version = subprocess.run([binary, "--version"], capture_output=True, text=True)
    check(version.returncode == 0 and version.stdout.count("\n") == 1 and "core" in version.stdout,
          f"tessera --version: {version.stdout.strip()!r}")
    for shell in ("bash", "zsh", "fish"):
        completion = subprocess.run([binary, "--generate-completion-script", shell], capture_output=True, text=True)
        check(completion.returncode == 0 and "solve" in completion.stdout and "matrix" in completion.stdout,
              f"tessera --generate-completion-script {shell} lists the subcommands and flags")

    # The committed man page (scripts/generate-man.sh) documents every subcommand --help lists.
    helptext = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    subcommands = re.findall(r"^  ([a-z][a-z-]+)\s", helptext.split("SUBCOMMANDS:")[-1], flags=re.M)
    manual = open(os.path.join(ROOT, "docs", "tessera.1")).read()
    missing = [c for c in subcommands if f".It Em {c}" not in manual]
    check(bool(subcommands) and not missing, f"docs/tessera.1 documents every subcommand {subcommands} (missing: {missing})")

    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    # The cluster example runs when mpirun exists and this tessera links Open MPI.
    linked = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    has_mpi = shutil.which("mpirun") is not None and "libmpi" in linked
    with tempfile.TemporaryDirectory() as work:
        os.mkdir(os.path.join(work, "bin"))
        os.symlink(binary, os.path.join(work, "bin", "tessera"))
        os.symlink(os.path.join(ROOT, "scripts"), os.path.join(work, "scripts"))
        env = dict(os.environ, PATH=os.path.join(work, "bin") + os.pathsep + os.environ.get("PATH", ""))
        ran = 0
        for command, shown in examples(readme):
            if "plot_convergence" in command and not has_matplotlib:
                print(f"skip {command}  (matplotlib is not installed: pip install matplotlib)")
                continue
            if ("mpirun" in command or "x-2ranks" in command) and not has_mpi:
                print(f"skip {command}  (no mpirun, or tessera built without Open MPI: scripts/install-deps.sh)")
                continue
            expected = 3 if any("NOT met" in line for line in shown) else 0
            result = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True)
            lines = (result.stdout + result.stderr).splitlines()
            problems = compare(shown, lines)
            short = command if len(command) < 90 else command[:87] + "…"
            check(result.returncode == expected and not problems,
                  f"$ {short} → exit {result.returncode} (expected {expected})" + ("; " + "; ".join(problems) if problems else ""))
            ran += 1
        check(ran >= 7, f"{ran} README commands ran")
        # The JSON reports the README writes: schema version 1, one residual per iteration.
        import json
        for name in ("att/pcg.json", "att/paper.json"):
            with open(os.path.join(work, name)) as f:
                report = json.load(f)
            check(report.get("schema") == "tessera.report" and report.get("schema_version") == 1
                  and len(report.get("history", [])) == report.get("iterations") > 0,
                  f"{name}: schema_version {report.get('schema_version')}, {len(report.get('history', []))} residuals "
                  f"for {report.get('iterations')} iterations")

    # Relative links in the README and docs point at files that exist.
    for path in ["README.md"] + [os.path.join("docs", f) for f in sorted(os.listdir(os.path.join(ROOT, "docs"))) if f.endswith(".md")]:
        text = open(os.path.join(ROOT, path)).read()
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            resolved = os.path.normpath(os.path.join(ROOT, os.path.dirname(path), target))
            if not os.path.exists(resolved):
                check(False, f"{path} links to {target}, which does not exist")

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("README examples: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
