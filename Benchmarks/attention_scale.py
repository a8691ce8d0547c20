#!/usr/bin/env python3
"""Attention at scale, as a user runs it: `tessera generate attention` then `tessera solve
attention` from the files (process start to x written), K never stored unless the planner stores
it, with peak resident memory, the kernel products the solve ran (count, time each, by kind: the
report's `products`), iterations, and each product's ratio to its floor — measured in the same
run with the same libraries: SGEMM/DGEMM (the system OpenBLAS that Tessera links, one thread,
times the cores) at a large square shape, and Tessera's own float32/float64 exp kernels
(libTesseraC.so). Floor of one product: n²·d flops (n²/2 panel entries, 2d flops each) at the
GEMM rate plus n²/2 exps at the exp rate — float32 for the mixed-precision inner products,
float64 for exact ones. With --scipy N, SciPy's exp(A @ A.T) + cho_factor/cho_solve runs on the
same files for n ≤ N (K in memory: 8n² bytes, twice). With --compare-ranks the same solve runs
again at fixed ranks, to set the adaptive rank (the report's `rank`, `rank_stop`) against them.

    python3 Benchmarks/attention_scale.py --sizes 60000,100000 --workdir /var/tmp/att-scale
    python3 Benchmarks/attention_scale.py --sizes 20000 --tolerance 1e-10 --scipy 20000 --repeat 3
    python3 Benchmarks/attention_scale.py --sizes 20000 --ridge 1 --compare-ranks 1000,4000

Needs a release build (`swift build -c release`), NumPy (and SciPy for --scipy). The phases and
products printed are those of the last run.
"""
import argparse
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from end_to_end import run_child as timed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCIPY_SCRIPT = r"""
import sys, numpy as np, scipy.linalg as sl
a_path, b_path, x_path, ridge = sys.argv[1:5]
A = np.load(a_path); b = np.load(b_path)
K = np.exp(A @ A.T)
K[np.diag_indices_from(K)] += float(ridge)
x = sl.cho_solve(sl.cho_factor(K, overwrite_a=True, check_finite=False), b, check_finite=False)
np.save(x_path, x)
"""


class Rates:
    """GEMM and exp rates per core, measured here with the libraries Tessera uses."""

    def __init__(self, build):
        blas = ctypes.CDLL("libopenblas.so.0")
        blas.openblas_set_num_threads(1)
        self.cores = os.cpu_count() or 1
        self.sgemm = self.gemm(blas.cblas_sgemm, np.float32, ctypes.c_float)
        self.dgemm = self.gemm(blas.cblas_dgemm, np.float64, ctypes.c_double)
        lib = ctypes.CDLL(os.path.join(build, "libTesseraC.so"))
        avx512 = "avx512f" in open("/proc/cpuinfo").read()
        self.expf = self.exp(getattr(lib, "tessera_expf_avx512" if avx512 else "tessera_expf_avx2"), np.float32)
        self.exp64 = self.exp(lib.tessera_exp_avx2, np.float64)

    @staticmethod
    def gemm(fn, dtype, scalar, n=2000, reps=5):
        a = np.random.default_rng(1).random((n, n)).astype(dtype)
        c = np.empty_like(a)
        ptr = lambda m: m.ctypes.data_as(ctypes.c_void_p)
        args = (102, 111, 111, n, n, n, scalar(1), ptr(a), n, ptr(a), n, scalar(0), ptr(c), n)
        fn(*args)
        best = float("inf")
        for _ in range(reps):
            t = time.perf_counter(); fn(*args); best = min(best, time.perf_counter() - t)
        return 2 * n ** 3 / best

    @staticmethod
    def exp(fn, dtype, count=1 << 20, reps=20):
        x = (np.random.default_rng(2).random(count) - 0.5).astype(dtype)
        y = np.empty_like(x)
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
        best = float("inf")
        for _ in range(reps):
            t = time.perf_counter(); fn(x.ctypes.data, y.ctypes.data, count); best = min(best, time.perf_counter() - t)
        return count / best

    def floor(self, n, d, single):
        gemm, exp = (self.sgemm, self.expf) if single else (self.dgemm, self.exp64)
        return n * n * d / (gemm * self.cores) + n * n / 2 / (exp * self.cores)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="20000,60000,100000", help="n values, comma-separated")
    p.add_argument("--cols", type=int, default=64)
    p.add_argument("--ridge", type=float, default=1e-3)
    p.add_argument("--tolerance", type=float, default=1e-8)
    p.add_argument("--memory-budget", default="4G")
    p.add_argument("--solve-args", default="", help="extra arguments for tessera solve")
    p.add_argument("--scipy", type=int, default=0, help="run SciPy's dense Cholesky for n ≤ this")
    p.add_argument("--repeat", type=int, default=1, help="tessera runs per size (the median is quoted)")
    p.add_argument("--compare-ranks", default="", help="also solve with these fixed --rank values (comma-separated), "
                   "timed in the same run: the adaptive rank against them")
    p.add_argument("--workdir", default=None, help="keep the problems here (default: a temporary folder)")
    p.add_argument("--build", default=os.path.join(ROOT, ".build", "release"))
    args = p.parse_args()
    tessera = os.path.join(args.build, "tessera")
    if not os.path.exists(tessera):
        sys.exit(f"{tessera} not found: run `swift build -c release` first")
    workdir = args.workdir or tempfile.mkdtemp(prefix="tessera-attention-")
    os.makedirs(workdir, exist_ok=True)
    print(f"load before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)", flush=True)
    rates = Rates(args.build)
    print(f"rates per core: SGEMM {rates.sgemm / 1e9:.1f} GFLOP/s, DGEMM {rates.dgemm / 1e9:.1f} GFLOP/s, "
          f"float32 exp {rates.expf / 1e9:.2f} G/s, float64 exp {rates.exp64 / 1e9:.2f} G/s", flush=True)
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            folder = os.path.join(workdir, f"n{n}" if args.ridge == 1e-3 else f"n{n}-ridge{args.ridge:g}")
            if not os.path.exists(os.path.join(folder, "b.npy")):
                subprocess.run([tessera, "generate", "attention", "--rows", str(n), "--cols", str(args.cols),
                                "--ridge", str(args.ridge), "--output-dir", folder, "--quiet"], check=True)
            a, b = os.path.join(folder, "A.npy"), os.path.join(folder, "b.npy")
            report = os.path.join(folder, "report.json")
            cmd = [tessera, "solve", "attention", "--matrix", a, "--rhs", b, "--output", os.path.join(folder, "x.npy"),
                   "--ridge", str(args.ridge), "--tolerance", str(args.tolerance), "--memory-budget", args.memory_budget,
                   "--report", report, "--quiet"] + args.solve_args.split()
            runs = [timed(cmd) for _ in range(args.repeat)]
            seconds, peak, code = sorted(runs)[len(runs) // 2][0], max(r[1] for r in runs), max(r[2] for r in runs)
            r = json.load(open(report))
            spread = f" (median of {len(runs)}: " + ", ".join(f"{s:.1f}" for s, _, _ in runs) + ")" if len(runs) > 1 else ""
            print(f"\nn = {n}, d = {args.cols}, λ = {args.ridge}, tolerance {args.tolerance}: tessera {seconds:.1f} s{spread} "
                  f"(exit {code}), peak resident {peak / 1e9:.2f} GB, {r['iterations']} iterations, "
                  f"relative residual {r['relative_residual']:.1e}")
            print(f"  method: {r['reason']}")
            if r.get("rank") is not None:
                print(f"  preconditioner rank {r['rank']}" + (f" (rounds stopped: {r['rank_stop']})" if r.get("rank_stop") else ""))
            if r.get("iteration"):
                print(f"  iteration: {r['iteration']}")
            print(f"  phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(r["seconds"].items())))
            for kind, tally in sorted(r.get("products", {}).items()):
                each = tally["seconds"] / max(1, tally["count"])
                line = f"  products {kind}: {tally['count']} × {each:.3f} s"
                if "stored" not in kind:
                    floor = rates.floor(n, args.cols, single=kind.startswith("float32"))
                    line += f", floor {floor:.3f} s (GEMM + exp at the rates above), ratio {each / floor:.2f}"
                print(line)
            for k in (int(v) for v in args.compare_ranks.split(",") if v):
                fixed, fixed_peak, _ = timed(cmd + ["--rank", str(k)])
                rk = json.load(open(report))
                print(f"  fixed rank {k}: {fixed:.1f} s, {rk['iterations']} iterations, peak {fixed_peak / 1e9:.2f} GB "
                      f"(adaptive {r['rank']}: {seconds:.1f} s, {r['iterations']} iterations)")
            if n <= args.scipy:
                script = os.path.join(folder, "scipy_attention.py")
                open(script, "w").write(SCIPY_SCRIPT)
                peer_cmd = [sys.executable, script, a, b, os.path.join(folder, "x_scipy.npy"), str(args.ridge)]
                peer, peer_peak, peer_code = timed(peer_cmd, allow_crash=True)
                label = "SciPy exp(A @ A.T) + cho_factor"
                if peer_code != 0:
                    # NumPy's own OpenBLAS crashes in multithreaded Cholesky at n ≥ 16,000 on some
                    # machines (shared/notes); the single-threaded run is the fair peer then.
                    print(f"  {label}: crashed (exit {peer_code}) after {peer:.1f} s with {os.cpu_count()} threads; rerun with OPENBLAS_NUM_THREADS=1")
                    peer, peer_peak, _ = timed(peer_cmd, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
                    label += ", 1 thread"
                print(f"  {label}: {peer:.1f} s, peak {peer_peak / 1e9:.2f} GB → tessera {peer / seconds:.2f}× faster")
            sys.stdout.flush()
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
