"""Tessera: solvers for regression against proxies of the attention matrix, on a Swift engine.

    x, info = tessera.solve_gram(A, b, power=1)          # min ‖(AᵀA)^j x − b‖
    x, info = tessera.solve_lstsq(A, b, power=0)         # min ‖A(AᵀA)^j x − b‖ (j = 0: least squares)
    x, info = tessera.solve_attention(A, b, ridge=1e-3)  # min ‖(exp(AAᵀ) + λI)x − b‖
    plan = tessera.Plan(A, "lstsq"); x, info = plan.solve(B)   # prepare once, solve many

NumPy arrays (float64 or float32, C or Fortran order) are used without a copy; the GIL is
released while the engine runs; Ctrl-C cancels an iterative solve. Errors: ValueError (invalid
input), MemoryError (over the memory budget), numpy.linalg.LinAlgError (not positive definite,
or rank deficient with rank_deficient="refuse"), ConvergenceWarning (tolerance not met:
info.converged is False). A numerically rank-deficient A gives the minimum-norm solution for
gram/lstsq, with a RankDeficientWarning and info.rank.
info.history holds the residual estimate of each iteration; tessera.plot_convergence(info) plots
it (matplotlib, optional).
"""
from ._solve import (BatchInfo, Cancelled, ConvergenceWarning, Plan, RankDeficientWarning, SolveInfo, get_num_threads,
                     set_num_threads, solve_attention, solve_batched, solve_gram, solve_lstsq)
from .estimators import AttentionKernelRidge
from .plotting import plot_convergence

__all__ = ["Plan", "SolveInfo", "BatchInfo", "ConvergenceWarning", "RankDeficientWarning", "Cancelled", "solve_gram",
           "solve_lstsq", "solve_attention", "solve_batched", "set_num_threads", "get_num_threads", "AttentionKernelRidge",
           "plot_convergence"]
