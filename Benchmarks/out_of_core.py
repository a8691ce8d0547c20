#!/usr/bin/env python3
"""A larger than memory: `tessera solve` on an A.npy bigger than the machine's RAM, used in place
(its tiles are views of the mapped file, pages coming and going with the page cache).

    python3 Benchmarks/out_of_core.py [--rows 18000000 --cols 256] [--workdir /var/tmp/tessera-ooc]

Writes A.npy in row blocks without holding it — with NumPy (default: Gaussian rows, b = AᵀA·x_true
accumulated block by block) or with `tessera generate` (--generator tessera: a known κ, slower) —
then times, each
in a fresh process with its peak resident memory and the bytes it read from the disk (getrusage's
ru_inblock): `dd` reading the file sequentially (the bandwidth floor), `solve gram --power 1
--method cholesky` and `solve lstsq --power 0 --method cholesky` (b a Gaussian n-vector), both
verified by their reports. The achieved read bandwidth is bytes read / wall time, against dd's in
the same run. Needs 8·n·d bytes (+ 1%) free in --workdir, else it says so and exits 0 without
running; the default shape is 36.9 GB, 1.5× a 24 GiB machine. The files are removed at the end
unless --keep. Needs a release build (`swift build -c release --product tessera`) and NumPy.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time


def run_measured(cmd):
    """Wall seconds, peak resident bytes, bytes read from storage (ru_inblock) and stdout of one
    child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 3):
        sys.exit(f"{' '.join(cmd)} exited {code}: {err.strip()}")
    return seconds, usage.ru_maxrss * 1024, usage.ru_inblock * 512, out


def write_numpy(a_path, b_path, n, d, block=65536):
    """A.npy of Gaussian rows (well conditioned for n ≫ d: κ ≈ (1 + √(d/n))/(1 − √(d/n)))
    written block by block through a memory-mapped .npy, and b = AᵀA·x_true accumulated as it goes."""
    import numpy as np
    rng = np.random.default_rng(1)
    x_true = rng.standard_normal(d)
    a = np.lib.format.open_memmap(a_path, mode="w+", dtype=np.float64, shape=(n, d))
    b = np.zeros(d)
    for start in range(0, n, block):
        rows = rng.standard_normal((min(block, n - start), d))
        a[start:start + rows.shape[0]] = rows
        b += rows.T @ (rows @ x_true)
        a.flush()
        del rows
    del a
    np.save(b_path, b)
    np.save(os.path.join(os.path.dirname(a_path), "x_true.npy"), x_true)


def drop_caches():
    """Empties the page cache when allowed (root), so every run reads from the disk."""
    try:
        subprocess.run(["sync"], check=True)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def memory_total():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=18_000_000)
    parser.add_argument("--cols", type=int, default=256)
    parser.add_argument("--workdir", default="/var/tmp/tessera-ooc")
    parser.add_argument("--tessera", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "tessera"))
    parser.add_argument("--keep", action="store_true", help="keep the files for another run")
    parser.add_argument("--generator", choices=["numpy", "tessera"], default="numpy")
    args = parser.parse_args()
    tessera = os.path.abspath(args.tessera)
    if not os.path.exists(tessera):
        sys.exit(f"no {tessera}: build it with `swift build -c release --product tessera`")
    n, d = args.rows, args.cols
    size = 8 * n * d
    os.makedirs(args.workdir, exist_ok=True)
    free = shutil.disk_usage(args.workdir).free
    a_path = os.path.join(args.workdir, "A.npy")
    have = os.path.getsize(a_path) if os.path.exists(a_path) else 0
    need = int(size * 1.01) + 24 * n
    if free + have < need:
        print(f"skipped: A of {n} × {d} needs {need / 1e9:.1f} GB free in {args.workdir}, which has {free / 1e9:.1f} GB; "
              f"choose --workdir on a larger disk or fewer --rows")
        return
    ram = memory_total()
    print(f"A: {n} × {d} float64 = {size / 1e9:.1f} GB; RAM {ram / 2**30:.1f} GiB (A is {size / ram:.2f}× RAM); "
          f"{os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}")
    try:
        import numpy as np
        if not (have and abs(have - size) < 4096):
            start = time.perf_counter()
            if args.generator == "tessera":
                seconds, rss, _, _ = run_measured([tessera, "generate", "gram", "--rows", str(n), "--cols", str(d), "--condition", "1e3",
                                                   "--power", "1", "--seed", "1", "--output-dir", args.workdir, "--quiet"])
                print(f"tessera generate: {seconds:.1f} s, peak RSS {rss / 1e9:.2f} GB ({size / seconds / 1e9:.2f} GB/s written)")
            else:
                write_numpy(a_path, os.path.join(args.workdir, "b.npy"), n, d)
                print(f"NumPy writer: {time.perf_counter() - start:.1f} s ({size / (time.perf_counter() - start) / 1e9:.2f} GB/s written)")
        b_ls = os.path.join(args.workdir, "b_lstsq.npy")
        np.save(b_ls, np.random.default_rng(1).standard_normal(n))
        cold = drop_caches()
        seconds, _, read, _ = run_measured(["dd", f"if={a_path}", "of=/dev/null", "bs=16M"])
        dd_rate = os.path.getsize(a_path) / seconds
        print(f"dd sequential read: {seconds:.1f} s, {dd_rate / 1e9:.2f} GB/s ({'page cache dropped first' if cold else 'page cache as it was'})")
        cases = [("gram", "1", os.path.join(args.workdir, "b.npy")), ("lstsq", "0", b_ls)]
        for problem, j, b in cases:
            drop_caches()
            report = os.path.join(args.workdir, f"report-{problem}.json")
            cmd = [tessera, "solve", problem, "--power", j, "--method", "cholesky", "--matrix", a_path, "--rhs", b,
                   "--output", os.path.join(args.workdir, f"x-{problem}.npy"), "--report", report, "--quiet"]
            seconds, rss, read, _ = run_measured(cmd)
            r = json.load(open(report))
            certificate = (f"{r['status']}, backward error {r['backward_error']}, relative residual {r['relative_residual']}, "
                           f"optimality {r['optimality']}, floor {r['accuracy_floor']}")
            rate = read / seconds
            print(f"solve {problem} j={j} cholesky: {seconds:.1f} s, peak RSS {rss / 1e9:.2f} GB, read {read / 1e9:.1f} GB "
                  f"({read / size:.2f} passes over A) at {rate / 1e9:.2f} GB/s = {rate / dd_rate:.0%} of dd; "
                  f"{certificate}")
            sys.stdout.flush()
    finally:
        if not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
