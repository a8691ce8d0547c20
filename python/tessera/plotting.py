"""Convergence plots: the residual estimate of each iteration on a log scale, from a SolveInfo
(`info.history`) or a `tessera solve --report` JSON (its "history"). matplotlib is optional: it is
imported only when a plot is asked for."""


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("tessera.plot_convergence needs matplotlib, which is not installed: "
                          "pip install matplotlib") from error
    return plt


def _series(source):
    """(label, history, iterations per stage) of a SolveInfo, a report dict, or a (label, history) pair."""
    if isinstance(source, dict):
        iterations = source.get("iterations")
        stages = iterations if isinstance(iterations, list) else [iterations or 0]
        return f"{source.get('problem', '')} {source.get('method', '')}".strip(), list(source.get("history") or []), stages
    if isinstance(source, tuple) and len(source) == 2:
        return str(source[0]), list(source[1]), []
    history = list(getattr(source, "history", []) or [])
    return getattr(source, "method", "") or "solve", history, []


def plot_convergence(*infos, ax=None, labels=None, title=None, path=None):
    """Plots the residual estimate per iteration of one or more solves on one log-scale axis.

    infos: SolveInfo objects (`info.history`), report dicts (`json.load` of a `--report` file), or
    (label, history) pairs. labels: names for the legend (default: each solve's method). ax: a
    matplotlib Axes to draw on (default: a new figure). path: when given, the figure is saved
    there (PNG, SVG, … by the extension). Returns the Axes. Raises ImportError with an install
    hint when matplotlib is missing, ValueError when no solve has a history (exact factors
    report none).
    """
    series = [_series(info) for info in infos]
    if not any(history for _, history, _ in series):
        raise ValueError("no convergence history to plot: exact factors (direct, cholesky) take no iterations")
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0))
    for k, (label, history, stages) in enumerate(series):
        if not history:
            continue
        name = labels[k] if labels and k < len(labels) else label
        ax.semilogy(range(1, len(history) + 1), [max(v, 1e-300) for v in history], label=f"{name} ({len(history)} iterations)")
        start = 0
        for count in stages[:-1]:          # stage boundaries of gram/lstsq solves with j > 1
            start += count
            if 0 < start < len(history):
                ax.axvline(start + 0.5, color="0.8", linewidth=0.8)
    ax.set_xlabel("iteration")
    ax.set_ylabel("relative residual estimate")
    if title:
        ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    if path is not None:
        ax.figure.tight_layout()
        ax.figure.savefig(path)
    return ax
