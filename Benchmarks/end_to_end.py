#!/usr/bin/env python3
"""End to end, as a user runs it: `tessera solve` on an .npy file (process start to x written)
against the obvious NumPy scripts on the same files (np.load with mmap_mode='r', and a plain
np.load; for lstsq also NumPy's normal equations on the mapped file), each in a fresh process, medians of --repeat runs, with peak resident memory, the
in-memory solve time from Tessera's own report, and the floors measured in the same run (reading
the file at `dd`'s bandwidth, the n·d² Gram at NumPy's GEMM rate).

    python3 Benchmarks/end_to_end.py --shapes 1000000x256 --repeat 3

Needs a release build (`swift build -c release --product tessera`) and NumPy; writes its files
to --workdir (default a temporary folder, removed at the end), about 8·n·d bytes per shape.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

NUMPY_SCRIPT = r"""
import sys, numpy as np
a_path, b_path, x_path, problem, j, mode = sys.argv[1:7]
j = int(j)
A = np.load(a_path, mmap_mode='r') if mode in ('mmap', 'normal') else np.load(a_path)
b = np.load(b_path)
G = A.T @ A
if problem == 'gram' or mode == 'normal':
    # gram, or lstsq by the normal equations: x = G^-(j+1) A^T b.
    x = b if problem == 'gram' else A.T @ b
    for _ in range(j if problem == 'gram' else j + 1):
        x = np.linalg.solve(G, x)
else:
    x = np.linalg.lstsq(A, b, rcond=None)[0]
    for _ in range(j):
        x = np.linalg.solve(G, x)
np.save(x_path, x)
"""


def run_child(cmd, env=None, allow_crash=False):
    """Wall seconds, peak resident memory (bytes) and exit code of one child process; exits with
    its message when it fails (any code but 0 and 3) unless `allow_crash`."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 3) and not allow_crash:
        sys.exit(f"{' '.join(cmd)} exited {code}: {err.strip()}")
    return seconds, usage.ru_maxrss * 1024, code


def timed(cmd, env=None):
    """Wall seconds and peak resident memory (bytes) of one child process."""
    seconds, peak, _ = run_child(cmd, env)
    return seconds, peak


def median_run(cmd, repeat, env=None):
    runs = [timed(cmd, env) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def interleaved_runs(commands, repeat):
    """Each command's median wall seconds and peak memory, the commands run in turn (A, B, C, A,
    B, C, …) so that a drift of the machine's speed reaches every one alike."""
    runs = [[] for _ in commands]
    for _ in range(repeat):
        for i, cmd in enumerate(commands):
            runs[i].append(timed(cmd))
    return [(statistics.median(r[0] for r in rs), max(r[1] for r in rs)) for rs in runs]


def read_bandwidth(path):
    """Bytes per second of a sequential read of the file (page cache as it is), by dd."""
    start = time.perf_counter()
    subprocess.run(["dd", f"if={path}", "of=/dev/null", "bs=16M"], check=True, capture_output=True)
    return os.path.getsize(path) / (time.perf_counter() - start)


def gemm_rate(dtype="float64"):
    import numpy as np
    m = 2000
    x = np.random.default_rng(0).standard_normal((m, m)).astype(dtype)
    x @ x
    start = time.perf_counter()
    x @ x
    return 2 * m ** 3 / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", default="1000000x256")
    parser.add_argument("--cases", default="gram:1,gram:2,lstsq:0,lstsq:1")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tessera", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "tessera"))
    parser.add_argument("--workdir")
    parser.add_argument("--normal-only", action="store_true",
                        help="time NumPy's normal equations only (mmap): skip np.linalg.lstsq's SVD (minutes at d ≥ 1,000) and "
                     "gram's np.load copy (a second 2 GB resident copy that pushes A out of a small page cache)")
    parser.add_argument("--baseline", help="another tessera binary (e.g. an earlier commit's) timed on the same files in the same run")
    parser.add_argument("--baseline-args", default="", help="extra options for the baseline's solve, e.g. '--precision double'")
    args = parser.parse_args()
    tessera = os.path.abspath(args.tessera)
    if not os.path.exists(tessera):
        sys.exit(f"no {tessera}: build it with `swift build -c release --product tessera`")
    work = args.workdir or tempfile.mkdtemp(prefix="tessera-e2e-")
    os.makedirs(work, exist_ok=True)
    rate, single_rate = gemm_rate(), gemm_rate("float32")
    print(f"load {os.getloadavg()[0]:.2f}; NumPy GEMM {rate / 1e9:.1f} GFLOP/s (float32 {single_rate / 1e9:.1f}); {os.cpu_count()} cores; medians of {args.repeat}")
    print("shape            case     tessera s  (solve s)  np mmap s  np load s  vs mmap  vs load  np normal s  vs normal  RSS tessera/mmap/load GB  floor read/SYRK/SSYRK s  factor"
          + ("  baseline s  RSS GB  baseline/tessera" if args.baseline else ""))
    try:
        for shape in args.shapes.split(","):
            n, d = (int(v) for v in shape.split("x"))
            for case in args.cases.split(","):
                problem, j = case.split(":")
                folder = os.path.join(work, f"{shape}-{problem}")
                if not os.path.exists(os.path.join(folder, "A.npy")):
                    subprocess.run([tessera, "generate", problem, "--rows", str(n), "--cols", str(d), "--condition", "1e3",
                                    "--power", "1", "--seed", "1", "--output-dir", folder, "--quiet"], check=True)
                a, b = os.path.join(folder, "A.npy"), os.path.join(folder, "b.npy")
                x, report = os.path.join(folder, "x.npy"), os.path.join(folder, "report.json")
                cmd = [tessera, "solve", problem, "--matrix", a, "--rhs", b, "--power", j, "--output", x, "--report", report, "--quiet"]
                np_cmd = [sys.executable, "-c", NUMPY_SCRIPT, a, b, os.path.join(folder, "x_np.npy"), problem, j]
                # Tessera and NumPy's routes timed in turn (medians): NumPy's normal equations
                # (mmap) are the gram column itself, or lstsq's x = G^-(j+1)·Aᵀb.
                if args.normal_only:
                    commands = [cmd, np_cmd + ["normal"]]
                else:
                    commands = [cmd, np_cmd + ["mmap"], np_cmd + ["load"]] + ([np_cmd + ["normal"]] if problem == "lstsq" else [])
                timings = interleaved_runs(commands, args.repeat)
                t_tessera, rss_tessera = timings[0]
                solve_report = json.load(open(report))
                solve, factor = solve_report["seconds"]["total"], solve_report.get("factor")
                if args.normal_only:
                    t_mmap = t_load = rss_mmap = rss_load = float("nan")
                    t_normal = timings[1][0]
                else:
                    (t_mmap, rss_mmap), (t_load, rss_load) = timings[1], timings[2]
                    t_normal = t_mmap if problem == "gram" else timings[3][0]
                floor_read = os.path.getsize(a) / read_bandwidth(a)
                floor_syrk = n * d * d / rate
                floor_ssyrk = n * d * d / single_rate
                print(f"{shape:<16} {problem}:{j:<6} {t_tessera:9.3f}  ({solve:7.3f})  {t_mmap:9.3f}  {t_load:9.3f}  "
                      f"{t_mmap / t_tessera:6.2f}×  {t_load / t_tessera:6.2f}×  {t_normal:11.3f}  {t_normal / t_tessera:8.2f}×  "
                      f"{rss_tessera / 1e9:5.2f}/{rss_mmap / 1e9:5.2f}/{rss_load / 1e9:5.2f}            "
                      f"{floor_read:6.3f}/{floor_syrk:6.3f}/{floor_ssyrk:6.3f}  {factor}", end="")
                if args.baseline:
                    t_base, rss_base = median_run([os.path.abspath(args.baseline)] + cmd[1:] + args.baseline_args.split(), args.repeat)
                    print(f"  {t_base:10.3f}  {rss_base / 1e9:6.2f}  {t_base / t_tessera:6.2f}×", end="")
                print()
                sys.stdout.flush()
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
