#!/usr/bin/env python3
"""Turns `tessera solve --report` JSON files into one convergence plot (PNG, SVG, … by the output's
extension): the residual estimate of each iteration ("history", report schema_version ≥ 1) on a
log scale, one line per report, stage boundaries of multi-stage gram/lstsq solves marked.

    scripts/plot_convergence.py paper.json pcg.json -o convergence.svg [--title TEXT] [--labels paper pcg]

Needs matplotlib (pip install matplotlib). Uses the package's own tessera.plot_convergence when
the package is importable, else the same drawing from python/tessera/plotting.py in this
repository (no engine library needed). Exits 2 with one line for an unreadable report, a
report without a history (an exact factor's), or matplotlib missing.
"""
import argparse
import importlib.util
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def plotting_module():
    """python/tessera/plotting.py, loaded alone (it needs neither NumPy nor the engine)."""
    spec = importlib.util.spec_from_file_location("tessera_plotting", os.path.join(ROOT, "python", "tessera", "plotting.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None):
    parser = argparse.ArgumentParser(description="Plot the convergence history of tessera --report JSON files.")
    parser.add_argument("reports", nargs="+", help="report JSON files written by `tessera solve --report`")
    parser.add_argument("-o", "--output", required=True, help="the image to write (.png, .svg, .pdf)")
    parser.add_argument("--title", help="the plot's title (default: problem and size of the first report)")
    parser.add_argument("--labels", nargs="+", help="legend names, one per report (default: each report's method)")
    args = parser.parse_args(argv)
    reports = []
    for path in args.reports:
        try:
            with open(path) as f:
                report = json.load(f)
        except (OSError, ValueError) as error:
            print(f"plot_convergence: error: cannot read {path}: {error}", file=sys.stderr)
            return 2
        if isinstance(report, list):        # a 2-D --rhs writes a list of reports: the first column
            report = report[0]
        if "history" not in report:
            print(f"plot_convergence: error: {path} has no convergence history (a report before schema_version 1)", file=sys.stderr)
            return 2
        reports.append(report)
    os.environ.setdefault("MPLBACKEND", "Agg")      # files only: no display needed
    first = reports[0]
    title = args.title or f"{first.get('problem', '')}, n = {first.get('rows')}, d = {first.get('cols')}"
    try:
        plotting_module().plot_convergence(*reports, labels=args.labels, title=title, path=args.output)
    except (ImportError, ValueError) as error:
        print(f"plot_convergence: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
