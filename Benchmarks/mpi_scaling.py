#!/usr/bin/env python3
"""Open MPI scaling of `tessera solve` (docs/DISTRIBUTED.md): the same gram problem on 1, 2 and 4
ranks of `mpirun` on this machine, each rank with --threads T, for each route, with both ways of
combining the ranks' partials: `deterministic` (allgather of the G ≤ 64 group partials, summed by
the fixed tree on every rank: the same bits for any rank count) and `allreduce` (each rank sums
its groups, then a plain MPI_Allreduce: bits depend on the rank count; for comparison only).

    python3 Benchmarks/mpi_scaling.py --rows 4000000 --cols 64 --ranks 1 2 4 --threads 1
    python3 Benchmarks/mpi_scaling.py --problem attention --rows 20000 --cols 64 --methods pcg
    python3 Benchmarks/mpi_scaling.py --problem attention --rows 20000 --cols 64 --methods pcg --solve-args "--memory-budget 1G"

attention (rows of norm 1, λ = 1e-3): made on the fly, each kernel product runs around a ring of
A's row tiles (one combine only: the deterministic one); K is stored (each rank holds its range
of the block pairs and their contributions are gathered) when it fits half the memory budget.

Per run it prints the wall time (process start to x written, median of --repeat), the solver's
own total, the number of cross-rank exchanges, the bytes rank 0 received per exchange, and the
share of the solve spent inside MPI calls (TESSERA_MPI_STATS=1; waiting for slower ranks counts
as communication), and checks that x has the same bytes as the 1-rank x (deterministic only);
for the ring, the MiB rank 0 received in its shifts and the share of the solve it was blocked in
them (the rest of each shift travelled while a round's pairs computed).
More ranks than cores are oversubscribed (--oversubscribe): on a 2-core machine 4 ranks share
2 cores, so the times show overheads, not speed-up. Needs a release build with Open MPI
(`swift build -c release --product tessera` with libopenmpi-dev installed). Writes A.npy
(8·n·d bytes) to --workdir (default a temporary folder, removed at the end).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def run(cmd, env=None):
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", choices=["gram", "attention"], default="gram")
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--cols", type=int, default=64)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--methods", nargs="+", default=["cholesky", "pcg"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--solve-args", default="", help="extra `tessera solve` options, e.g. \"--memory-budget 200M\" (K on the fly)")
    parser.add_argument("--workdir")
    parser.add_argument("--tessera", default=os.path.join(ROOT, ".build", "release", "tessera"))
    args = parser.parse_args()
    if not shutil.which("mpirun"):
        sys.exit("mpirun not found: install openmpi-bin and libopenmpi-dev (scripts/install-deps.sh)")
    work = args.workdir or tempfile.mkdtemp(prefix="tessera-mpi-")
    os.makedirs(work, exist_ok=True)
    try:
        data = os.path.join(work, f"{args.problem}-{args.rows}x{args.cols}")
        shape = ["--row-norm", "1", "--ridge", "1e-3"] if args.problem == "attention" else ["--condition", "1e3", "--power", "1"]
        if not os.path.exists(os.path.join(data, "A.npy")):
            seconds, r = run([args.tessera, "generate", args.problem, "--rows", str(args.rows), "--cols", str(args.cols),
                              *shape, "--output-dir", data])
            if r.returncode != 0:
                sys.exit(r.stderr)
            print(f"generated {args.rows} × {args.cols} in {seconds:.1f} s")
        with open("/proc/loadavg") as f:
            print(f"load average before: {f.read().split()[0:3]}, {os.cpu_count()} cores")
        print(f"{'method':9} {'combine':13} {'ranks':>5} {'wall s':>7} {'solve s':>7} {'exch':>5} "
              f"{'KiB/exch':>9} {'comm %':>7}  same bits  {'ring MiB':>9} {'ring wait %':>11}")
        for method in args.methods:
            reference = None
            for combine in ("deterministic", "allreduce") if args.problem == "gram" else ("deterministic",):
                for p in args.ranks:
                    out = os.path.join(work, f"x-{method}-{combine}-{p}.npy")
                    extra = ["--ridge", "1e-3"] if args.problem == "attention" else ["--power", "1"]
                    cmd = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(p), args.tessera, "solve", args.problem,
                           "--matrix", os.path.join(data, "A.npy"), "--rhs", os.path.join(data, "b.npy"), *extra,
                           "--method", method, "--threads", str(args.threads), *args.solve_args.split(), "--output", out]
                    env = dict(os.environ, TESSERA_MPI_STATS="1", TESSERA_MPI_COMBINE=combine)
                    walls, solve, stats = [], None, None
                    for _ in range(args.repeat):
                        seconds, r = run(cmd, env)
                        if r.returncode != 0:
                            sys.exit(f"{' '.join(cmd)} → exit {r.returncode}\n{r.stdout}\n{r.stderr}")
                        walls.append(seconds)
                        m = re.search(r"total ([0-9.]+) s", r.stdout)
                        # attention's report has no total: the sum of its time line's phases.
                        line = re.search(r"^time\s+(.*)$", r.stdout, re.M)
                        phases = [float(v) for v in re.findall(r"([0-9.]+) s", line.group(1))] if line else []
                        solve = float(m.group(1)) if m else (sum(phases) if phases else float("nan"))
                        stats = re.search(r"exchanges (\d+), bytes received (\d+) \(largest exchange \d+\), communication ([0-9.e+-]+) s", r.stderr)
                        ring = re.search(r"ring shifts (\d+), bytes (\d+), blocked ([0-9.e+-]+) s", r.stderr)
                    exchanges = int(stats.group(1)) if stats else 0
                    received = int(stats.group(2)) if stats else 0
                    comm = float(stats.group(3)) if stats else 0.0
                    bits = open(out, "rb").read()
                    if combine == "deterministic" and p == args.ranks[0]:
                        reference = bits
                    same = "yes" if bits == reference else "no"
                    per = received / exchanges / 1024 if exchanges else 0
                    print(f"{method:9} {combine:13} {p:5d} {statistics.median(walls):7.2f} {solve:7.2f} {exchanges:5d} "
                          f"{per:9.1f} {100 * comm / solve if solve == solve and solve > 0 else 0:6.1f}%  {same:9}"
                          f"{int(ring.group(2)) / 2**20 if ring else 0:9.1f} "
                          f"{100 * float(ring.group(3)) / solve if ring and solve == solve and solve > 0 else 0:10.1f}%", flush=True)
        with open("/proc/loadavg") as f:
            print(f"load average after: {f.read().split()[0:3]}")
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
