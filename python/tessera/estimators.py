"""scikit-learn style estimators over the engine (scikit-learn itself is optional: with it the
estimators are real `BaseEstimator`s, so `clone`, pipelines and grid search work)."""
import numpy as np

from ._solve import Plan

try:
    from sklearn.base import BaseEstimator, RegressorMixin
except ImportError:  # a minimal stand-in with the same parameter protocol
    class BaseEstimator:
        def get_params(self, deep=True):
            return {name: getattr(self, name) for name in self._parameter_names}

        def set_params(self, **params):
            for name, value in params.items():
                if name not in self._parameter_names:
                    raise ValueError(f"unknown parameter {name!r}")
                setattr(self, name, value)
            return self

    class RegressorMixin:
        def score(self, X, y):
            y = np.asarray(y, dtype=np.float64)
            residual = ((y - self.predict(X)) ** 2).sum()
            total = ((y - y.mean(axis=0)) ** 2).sum()
            return 1 - residual / total if total > 0 else 0.0


class AttentionKernelRidge(RegressorMixin, BaseEstimator):
    """Kernel ridge regression with the attention kernel k(x, z) = exp(⟨x, z⟩): fit solves
    (exp(XXᵀ) + ridge·I)α = y with Tessera (dual coefficients α); predict computes
    exp(X_new·Xᵀ)·α in tiles, never forming the n_new × n matrix. Rows must be small enough that
    exp(⟨x, z⟩) does not overflow (scale X, e.g. by d^(-1/4), as attention does).

    Parameters: ridge (λ ≥ 0), method ("auto", "pcg", "direct", "paper"), tol, max_iterations,
    rank (preconditioner rank), seed, threads. Attributes after fit: dual_coef_, X_fit_, info_.
    """
    _parameter_names = ("ridge", "method", "tol", "max_iterations", "rank", "seed", "threads")

    def __init__(self, ridge=1e-3, method="auto", tol=None, max_iterations=500, rank=None, seed=0, threads=None):
        self.ridge = ridge
        self.method = method
        self.tol = tol
        self.max_iterations = max_iterations
        self.rank = rank
        self.seed = seed
        self.threads = threads

    def _plan(self):
        return Plan(self.X_fit_, "attention", ridge=self.ridge, method=self.method, tol=self.tol,
                    max_iterations=self.max_iterations, rank=self.rank, seed=self.seed, threads=self.threads)

    def fit(self, X, y):
        X = np.array(X, dtype=np.float64, order="C", copy=True)
        y = np.asarray(y, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"y has {y.shape[0]} rows, X has {X.shape[0]}")
        self.X_fit_ = X
        self.n_features_in_ = X.shape[1]
        self._fitted_plan = self._plan()
        self.dual_coef_, self.info_ = self._fitted_plan.solve(y)
        return self

    def predict(self, X):
        if not hasattr(self, "dual_coef_"):
            raise ValueError("this AttentionKernelRidge is not fitted yet; call fit(X, y) first")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X must have shape (n, {self.n_features_in_}); got {X.shape}")
        plan = getattr(self, "_fitted_plan", None) or self._plan()
        self._fitted_plan = plan
        if self.dual_coef_.ndim == 1:
            return plan.cross_kernel(X, self.dual_coef_)
        return np.stack([plan.cross_kernel(X, self.dual_coef_[:, k]) for k in range(self.dual_coef_.shape[1])], axis=1)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_fitted_plan", None)   # a native handle; remade on the first predict
        return state
