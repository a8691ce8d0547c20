#!/usr/bin/env python3
"""Peer timings for Tessera's gram/lstsq benchmark, on the same .npy inputs, same machine.

usage: gram_lstsq_peers.py gram|lstsq A.npy b.npy POWER ROUTE [ROUTE ...]
routes: numpy-normal  np.linalg.solve(matrix_power(A.T @ A, j), b)          (gram)
        scipy-qr      scipy.linalg.qr(A, mode="r"), then 2j triangular solves (gram)
        numpy-lstsq   numpy.linalg.lstsq, then j solves with A.T @ A       (lstsq)
        scipy-gelsy   scipy.linalg.lstsq(lapack_driver="gelsy"), same       (lstsq)
Each route runs up to three times (once only when a run takes over 5 s) and reports the median.
Prints one JSON object per route: {"route", "seconds", "runs", "accuracy"} where accuracy is the
normwise backward error (gram) or the optimality |M^T r|/(|M| |r|) (lstsq), M = A (A^T A)^j,
computed exactly as Tessera's verification does (|A|_2 from the R factor).
A route that crashes or runs out of memory prints {"route", "error"} instead.
"""
import json
import sys
import time

import numpy as np
import scipy.linalg as sla


def gram_power(A, x, j):
    for _ in range(j):
        x = A.T @ (A @ x)
    return x


def measures(problem, A, b, x, j, norm_a):
    if problem == "gram":
        r = gram_power(A, x, j) - b
        return float(np.linalg.norm(r) / (norm_a ** (2 * j) * np.linalg.norm(x) + np.linalg.norm(b)))
    r = A @ gram_power(A, x, j) - b
    mtr = gram_power(A, A.T @ r, j)
    return float(np.linalg.norm(mtr) / (norm_a ** (2 * j + 1) * np.linalg.norm(r)))


def run(problem, route, A, b, j):
    t = time.perf_counter()
    if route == "numpy-normal":
        G = A.T @ A
        x = np.linalg.solve(np.linalg.matrix_power(G, j), b)
    elif route == "scipy-qr":
        R = sla.qr(A, mode="r", overwrite_a=False, check_finite=False)[0][: A.shape[1]]
        x = b.copy()
        for _ in range(j):
            x = sla.solve_triangular(R, x, trans="T", check_finite=False)
            x = sla.solve_triangular(R, x, check_finite=False)
    elif route in ("numpy-lstsq", "scipy-gelsy"):
        if route == "numpy-lstsq":
            y = np.linalg.lstsq(A, b, rcond=None)[0]
        else:
            y = sla.lstsq(A, b, lapack_driver="gelsy", check_finite=False)[0]
        x = np.linalg.solve(np.linalg.matrix_power(A.T @ A, j), y) if j > 0 else y
    else:
        raise ValueError(route)
    return time.perf_counter() - t, x


def main():
    problem, a_path, b_path, j = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    A = np.load(a_path)
    b = np.load(b_path)
    norm_a = None
    for route in sys.argv[5:]:
        try:
            times = []
            while True:
                seconds, x = run(problem, route, A, b, j)
                times.append(seconds)
                if len(times) == 3 or seconds > 5:
                    break
            seconds = sorted(times)[len(times) // 2]
            if norm_a is None:
                norm_a = float(np.linalg.norm(A.T @ A, 2)) ** 0.5
            print(json.dumps({"route": route, "seconds": seconds, "runs": len(times), "accuracy": measures(problem, A, b, x, j, norm_a)}), flush=True)
        except Exception as e:  # report and go on: a crashing peer is a result too
            print(json.dumps({"route": route, "error": f"{type(e).__name__}: {e}"}), flush=True)


if __name__ == "__main__":
    main()
