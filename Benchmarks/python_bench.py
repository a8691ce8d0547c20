#!/usr/bin/env python3
"""The Python package as a user calls it, against NumPy in the same run on the same arrays.

    python3 Benchmarks/python_bench.py [--rows 1000000 --cols 256] [--batch 10000 --batch-rows 2000 --batch-cols 32]

1. Call overhead: tessera.solve_gram(A, b) on an in-memory array, wall time in Python against
   the engine's own time for the same solve (info.seconds: sketch + factor + iterate + verify),
   and against NumPy's np.linalg.solve(A.T @ A, b) (medians of --repeat).
2. Throughput of many small problems: tessera.solve_batched against a NumPy loop and NumPy's
   batched route on the stacked 3-D array (gram: np.linalg.solve(np.swapaxes(A, 1, 2) @ A, b);
   lstsq: a loop of np.linalg.lstsq), in µs per solve and GFLOP/s (n·d² per problem).
3. Concurrent callers: 4 Python threads solving on one plan, throughput against 1 thread.
The floor beside each: n·d² flops at the GEMM rate NumPy measures here.
Needs the package installed (pip install --no-build-isolation ./python) or TESSERA_LIBRARY set.
"""
import argparse
import statistics
import threading
import time

import numpy as np

import tessera


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gemm_rate():
    x = np.random.default_rng(0).standard_normal((2000, 2000))
    x @ x
    start = time.perf_counter()
    x @ x
    return 2 * 2000 ** 3 / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cols", type=int, default=256)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--batch-rows", type=int, default=2000)
    parser.add_argument("--batch-cols", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rate = gemm_rate()
    import os
    print(f"load {os.getloadavg()[0]:.2f}; NumPy GEMM {rate / 1e9:.1f} GFLOP/s; tessera threads {tessera.get_num_threads()}; "
          f"medians of {args.repeat}")

    n, d = args.rows, args.cols
    rng = np.random.default_rng(1)
    A = rng.standard_normal((n, d))
    b = rng.standard_normal(d)
    infos = []

    def call():
        infos.append(tessera.solve_gram(A, b)[1])

    wall = median_time(call, args.repeat)
    engine = statistics.median(i.seconds["total"] for i in infos)
    numpy = median_time(lambda: np.linalg.solve(A.T @ A, b), args.repeat)
    floor = n * d * d / rate
    print(f"1. gram j=1 on {n} × {d} in memory: Python call {wall:.3f} s, engine's own time {engine:.3f} s "
          f"(call / engine {wall / engine:.3f}), NumPy solve(A.T@A, b) {numpy:.3f} s (NumPy / tessera {numpy / wall:.2f}×); "
          f"floor n·d² at the GEMM rate {floor:.3f} s; method {infos[-1].method}")
    del A

    count, bn, bd = args.batch, args.batch_rows, args.batch_cols
    A3 = rng.standard_normal((count, bn, bd))
    Bg = rng.standard_normal((count, bd))
    Bl = rng.standard_normal((count, bn))
    flops = count * bn * bd * bd
    t_tessera = median_time(lambda: tessera.solve_batched(A3, Bg, "gram"), args.repeat)
    t_stacked = median_time(lambda: np.linalg.solve(np.swapaxes(A3, 1, 2) @ A3, Bg[..., None]), args.repeat)
    t_loop = median_time(lambda: [np.linalg.solve(A3[k].T @ A3[k], Bg[k]) for k in range(count)], 1)
    best = min(t_stacked, t_loop)
    print(f"2. batched gram j=1, {count} × ({bn} × {bd}): tessera {t_tessera / count * 1e6:.1f} µs/solve "
          f"({flops / t_tessera / 1e9:.1f} GFLOP/s), NumPy stacked {t_stacked / count * 1e6:.1f} µs, NumPy loop "
          f"{t_loop / count * 1e6:.1f} µs; against the best NumPy route {best / t_tessera:.2f}×; floor {flops / rate / count * 1e6:.1f} µs")
    t_tessera = median_time(lambda: tessera.solve_batched(A3, Bl, "lstsq"), args.repeat)
    t_loop = median_time(lambda: [np.linalg.lstsq(A3[k], Bl[k], rcond=None) for k in range(count)], 1)
    print(f"   batched lstsq j=0: tessera {t_tessera / count * 1e6:.1f} µs/solve ({flops / t_tessera / 1e9:.1f} GFLOP/s), "
          f"NumPy lstsq loop {t_loop / count * 1e6:.1f} µs; {t_loop / t_tessera:.2f}×")
    del A3

    A = rng.standard_normal((200_000, 64))
    plan = tessera.Plan(A, "lstsq", method="pcg")
    rhs = [rng.standard_normal(200_000) for _ in range(8)]
    one = median_time(lambda: [plan.solve(r) for r in rhs], args.repeat)

    def four():
        threads = [threading.Thread(target=lambda k=k: [plan.solve(rhs[i]) for i in range(k, 8, 4)]) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    many = median_time(four, args.repeat)
    print(f"3. 8 lstsq pcg solves on one plan (200000 × 64): 1 Python thread {one:.3f} s, 4 threads {many:.3f} s "
          f"(throughput {one / many:.2f}× of one thread)")


if __name__ == "__main__":
    main()
