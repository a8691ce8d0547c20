#!/usr/bin/env python3
"""The CLI's progress line, as a person at a terminal sees it (run by scripts/test.sh).

Drives `tessera solve attention --method pcg` (a solve of a few seconds) under a pseudo-terminal
(Python's pty module: stderr is a terminal) and checks that the line shows the phases in order
(load, factor, iterate, verify/write), an iteration count that rises, a residual in scientific
notation, and a time-left estimate; then runs the same solve with stderr a pipe and with --quiet
on the terminal, and checks that nothing of the line reaches either. Also checks `--version`.

Usage: scripts/test-progress.py [path/to/tessera]   (default .build/debug/tessera, built or brought up to date first)
"""
import os
import pty
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
PHASES = ["load", "sketch", "factor", "iterate", "verify", "write"]


def tessera():
    if len(sys.argv) > 1:
        return os.path.abspath(sys.argv[1])
    # Always build (incremental, seconds when up to date): a stale binary would test old code.
    subprocess.run(["swift", "build", "--product", "tessera"], cwd=ROOT, check=True)
    return os.path.join(ROOT, ".build", "debug", "tessera")


def run_in_pty(argv):
    """(exit status, everything the terminal received) for argv with stdin/stdout/stderr a pty."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:          # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")


def progress_lines(text):
    """The progress redraws: pieces between carriage returns that start with erase-line + 'tessera: '."""
    return [piece[len("\x1b[K"):] for piece in text.split("\r") if piece.startswith("\x1b[Ktessera: ")]


def main():
    binary = tessera()
    failures = []

    def check(condition, what):
        print(("ok   " if condition else "FAIL ") + what)
        if not condition:
            failures.append(what)

    version = subprocess.run([binary, "--version"], capture_output=True, text=True)
    check(version.returncode == 0 and len(version.stdout.strip().splitlines()) == 1
          and "OpenBLAS" in version.stdout and "core" in version.stdout,
          f"--version prints one line with the version and the OpenBLAS core: {version.stdout.strip()!r}")

    with tempfile.TemporaryDirectory() as work:
        subprocess.run([binary, "generate", "attention", "--rows", "2000", "--cols", "16", "--row-norm", "1",
                        "--ridge", "1e-3", "--output-dir", work], check=True, capture_output=True)
        solve = [binary, "solve", "attention", "--matrix", f"{work}/A.npy", "--rhs", f"{work}/b.npy", "--ridge", "1e-3",
                 "--method", "pcg", "--tolerance", "1e-11", "--output", f"{work}/x.npy"]

        status, text = run_in_pty(solve)
        lines = progress_lines(text)
        check(status == 0, f"the solve under a terminal exits 0 (got {status})")
        check(len(lines) >= 3, f"the progress line was drawn ({len(lines)} redraws)")
        phases = [m.group(1) for m in (re.match(r"tessera: (\w+) ", line) for line in lines) if m]
        order = [PHASES.index(p) for p in phases if p in PHASES]
        check(order == sorted(order), f"phases appear in order: {sorted(set(phases), key=PHASES.index)}")
        for needed in ["load", "factor", "iterate"]:
            check(needed in phases, f"phase '{needed}' is shown")
        iterations = [int(m.group(1)) for m in (re.search(r"iteration (\d+)", line) for line in lines) if m]
        check(len(iterations) >= 2 and iterations == sorted(iterations) and iterations[-1] > iterations[0],
              f"the iteration count rises: {iterations[:3]} … {iterations[-3:]}")
        check(any(re.search(r"residual \d\.\de[-+]\d\d", line) for line in lines), "a residual estimate is shown")
        check(any("s left" in line for line in lines), "a time-left estimate is shown once a rate is known")
        check("\r\x1b[Kproblem      attention" in text, "the line is erased before the report is printed")
        check("problem      attention" in text and "iterations   " in text, "the report follows")

        # stderr a pipe (not a terminal): nothing of the line.
        piped = subprocess.run(solve, capture_output=True, text=True)
        check(piped.returncode == 0, "the solve with stderr a pipe exits 0")
        check("tessera:" not in piped.stderr and "\r" not in piped.stderr and "\x1b[" not in piped.stderr,
              f"nothing of the progress line on a non-terminal stderr (got {piped.stderr[:120]!r})")
        check("\x1b[" not in piped.stdout, "no terminal control codes on stdout")

        # --quiet on a terminal: nothing at all.
        status, text = run_in_pty(solve + ["--quiet"])
        check(status == 0 and not progress_lines(text) and "tessera:" not in text, "--quiet draws nothing on a terminal")

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("progress line: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
