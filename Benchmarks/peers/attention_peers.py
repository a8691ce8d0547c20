#!/usr/bin/env python3
"""SciPy peer for Tessera's attention benchmark, on the same .npy inputs, same machine.

usage: attention_peers.py A.npy b.npy RIDGE
Forms K = np.exp(A @ A.T) (+ ridge·I), factors it with scipy.linalg.cho_factor and solves with
cho_solve. Prints one JSON object: {"route", "seconds", "form_seconds", "relative_residual"}
or {"route", "error"} (e.g. MemoryError). A crash of the process itself (SIGSEGV, as seen
with OpenBLAS 0.3.31 on 2 threads for n >= 16000) is reported by the caller from the exit code.
"""
import json
import sys
import time

import numpy as np
import scipy.linalg as sla


def main():
    A = np.load(sys.argv[1])
    b = np.load(sys.argv[2])
    ridge = float(sys.argv[3])
    route = "scipy-cho"
    try:
        t0 = time.perf_counter()
        K = np.exp(A @ A.T)
        if ridge:
            K[np.diag_indices_from(K)] += ridge
        t1 = time.perf_counter()
        c = sla.cho_factor(K, lower=False, overwrite_a=False, check_finite=False)
        x = sla.cho_solve(c, b, check_finite=False)
        t2 = time.perf_counter()
        r = np.exp(A @ A.T) @ x + ridge * x - b
        print(json.dumps({"route": route, "seconds": t2 - t0, "form_seconds": t1 - t0,
                          "relative_residual": float(np.linalg.norm(r) / np.linalg.norm(b))}), flush=True)
    except Exception as e:
        print(json.dumps({"route": route, "error": f"{type(e).__name__}: {e}"}), flush=True)


if __name__ == "__main__":
    main()
