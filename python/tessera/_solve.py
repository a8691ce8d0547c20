"""Plans and solve functions over libTesseraC: NumPy arrays are passed without a copy when their
memory already has a layout the engine reads (float64 or float32, C or Fortran order, any leading
dimension); anything else is converted once, as NumPy would. The GIL is released during every
call into the engine (ctypes does so for CDLL functions)."""
import ctypes
import threading
import warnings
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from . import _native as native


class ConvergenceWarning(UserWarning):
    """A solve stopped before its tolerance was met; x is the best found (info.converged is False)."""


class RankDeficientWarning(UserWarning):
    """A is numerically rank deficient: x is the minimum-norm solution (info.rank < d)."""


class Cancelled(RuntimeError):
    """A solve was stopped by its progress callback."""


@dataclass
class SolveInfo:
    """What one solve did and how good x is. `accuracy` is the certificate from an independent
    pass: the backward error (gram), the relative residual (attention) or the optimality
    ‖Mᵀr‖/(‖M‖‖r‖) (lstsq), named by `accuracy_kind`. `rank` is the numerical rank of A used by a
    minimum-norm solve (gram/lstsq with A numerically rank deficient; None on the full-rank
    route), with A's smallest kept and largest dropped singular values."""
    converged: bool
    status: str
    iterations: int
    accuracy: float
    accuracy_kind: str
    accuracy_floor: float
    tolerance: float
    condition_a: float
    condition_preconditioned: float
    seconds: dict = field(default_factory=dict)
    method: str = ""
    reason: str = ""
    #: The residual estimate of each iteration, all stages in order (len(history) == iterations;
    #: empty for exact factors); plot it with tessera.plot_convergence(info).
    history: list = field(default_factory=list)
    rank: Optional[int] = None
    smallest_kept_singular_value: float = float("nan")
    largest_dropped_singular_value: float = float("nan")

    @classmethod
    def from_native(cls, info, reason="", history=None):
        kinds = {0: "backward_error", 1: "relative_residual", 2: "optimality"}
        statuses = {native.OK: "converged", native.NOT_CONVERGED: "not_converged", native.NUMERICAL: "numerical"}
        return cls(converged=bool(info.tolerance_met), status=statuses.get(info.status, str(info.status)),
                   iterations=int(info.iterations), accuracy=float(info.accuracy),
                   accuracy_kind=kinds.get(info.accuracy_kind, "unknown"), accuracy_floor=float(info.accuracy_floor),
                   tolerance=float(info.tolerance), condition_a=float(info.condition_a),
                   condition_preconditioned=float(info.condition_preconditioned),
                   seconds={"sketch": info.seconds_sketch, "factor": info.seconds_factor, "iterate": info.seconds_iterate,
                            "verify": info.seconds_verify, "total": info.seconds_total},
                   method=native.METHOD_NAMES.get(info.method, "?"), reason=reason,
                   history=[] if history is None else [float(v) for v in history[:max(0, int(info.history_length))]],
                   rank=None if info.rank < 0 else int(info.rank),
                   smallest_kept_singular_value=float(info.smallest_kept_singular_value),
                   largest_dropped_singular_value=float(info.largest_dropped_singular_value))


_threads_lock = threading.Lock()
_threads = None          # None: TESSERA_NUM_THREADS, else the machine's cores
_contexts = {}


def set_num_threads(n):
    """Sets the worker count for plans created from now on (None: TESSERA_NUM_THREADS or the cores)."""
    global _threads
    if n is not None and (not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"the thread count must be a positive integer or None (got {n!r})")
    with _threads_lock:
        _threads = None if n is None else int(n)


def get_num_threads():
    """The worker count plans created now will use."""
    return _context(None)[1]


def _context(threads):
    """The shared native context for a thread count (created once, kept for the process)."""
    with _threads_lock:
        key = threads if threads is not None else _threads
        key = 0 if key is None else int(key)
        if key not in _contexts:
            handle = ctypes.c_void_p()
            _check(native.lib.tessera_context_create(key, ctypes.byref(handle)))
            _contexts[key] = (handle, native.lib.tessera_context_threads(handle))
        return _contexts[key]


def _check(status, interrupted=False):
    if status in (native.OK, native.NOT_CONVERGED):
        return status
    message = native.last_error()
    if status == native.INVALID_ARGUMENT:
        raise ValueError(message)
    if status == native.OUT_OF_MEMORY:
        raise MemoryError(message)
    if status == native.NUMERICAL:
        raise np.linalg.LinAlgError(message)
    if status == native.CANCELLED:
        if interrupted:
            raise KeyboardInterrupt
        raise Cancelled(message)
    raise RuntimeError(message)


def _matrix(a):
    """(array kept alive, pointer, n, d, ld, order, dtype code) with no copy where the layout allows."""
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"A must be 2-D (n, d); got shape {a.shape}")
    if a.dtype not in (np.float64, np.float32):
        a = a.astype(np.float64)
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    n, d = a.shape
    item = a.itemsize
    s0, s1 = a.strides
    if a.ctypes.data % item == 0 and n >= 1 and d >= 1:
        if (s1 == item or d == 1) and s0 % item == 0 and s0 >= d * item:
            return a, a.ctypes.data, n, d, s0 // item, native.ROW_MAJOR, _dtype(a)
        if (s0 == item or n == 1) and s1 % item == 0 and s1 >= n * item:
            return a, a.ctypes.data, n, d, s1 // item, native.COLUMN_MAJOR, _dtype(a)
    a = np.ascontiguousarray(a)
    return a, a.ctypes.data, n, d, max(d, 1), native.ROW_MAJOR, _dtype(a)


def _dtype(a):
    return native.FLOAT32 if a.dtype == np.float32 else native.FLOAT64


class Plan:
    """A prepared solver for one A: the factor or preconditioner is built here, once; `solve`
    then serves any number of right-hand sides, from any number of Python threads at once (the
    same bits as one at a time). A float64 or float32 array in C or Fortran order is used in
    place (`uses_array_in_place`); keep it unchanged while the plan lives (the plan holds a
    reference to it).

    problem: "gram" (min ‖(AᵀA)^j x − b‖, j = power ≥ 1), "lstsq" (min ‖A(AᵀA)^j x − b‖, j ≥ 0)
    or "attention" (min ‖(exp(AAᵀ) + ridge·I)x − b‖). callback=f(iteration, residual) is called
    after each iteration (return False to stop), on_phase=f(name) when a phase begins ("sketch",
    "factor", "iterate", "verify"): the engine's one progress interface. When A is numerically
    rank deficient (singular values σ ≤ rcond·σ₁; rcond=None: machine epsilon × max(n, d), as
    numpy.linalg.lstsq), gram/lstsq return the minimum-norm solution (rank_deficient="min-norm",
    the default; a RankDeficientWarning names the rank, and info.rank holds it) or raise
    LinAlgError (rank_deficient="refuse"). precision="mixed" preconditions gram/lstsq pcg with a
    float32 Gram (twice the BLAS-3 rate; iterations and certificate in float64) and runs attention
    pcg's inner kernel products with float32 panels inside float64 refinement (the certificate is
    an exact product); "double" never does, None lets the planner decide. Raises ValueError for invalid input, MemoryError over
    the memory budget, numpy.linalg.LinAlgError when the factorization fails.
    """

    def __init__(self, A, problem="gram", *, power=None, ridge=0.0, method="auto", sketch="sparse-sign",
                 sketch_size_factor=4.0, tol=None, max_iterations=500, seed=0, memory_budget=None, rank=None,
                 threads=None, callback=None, on_phase=None, rank_deficient="min-norm", rcond=None,
                 precision=None):
        if problem not in native.PROBLEMS:
            raise ValueError(f"problem must be one of {sorted(native.PROBLEMS)} (got {problem!r})")
        if method not in native.METHODS:
            raise ValueError(f"method must be one of {sorted(native.METHODS)} (got {method!r})")
        if rank_deficient not in native.RANK_DEFICIENT:
            raise ValueError(f"rank_deficient must be one of {sorted(native.RANK_DEFICIENT)} (got {rank_deficient!r})")
        if precision not in native.PRECISIONS:
            raise ValueError(f"precision must be None, 'double' or 'mixed' (got {precision!r})")
        if sketch not in native.SKETCHES:
            raise ValueError(f"sketch must be one of {sorted(native.SKETCHES)} (got {sketch!r})")
        self._array, pointer, n, d, ld, order, dtype = _matrix(A)
        self.problem = problem
        self._callback = callback
        self._on_phase_callback = on_phase
        self._max_iterations = int(max_iterations)
        self._local = threading.local()
        options = native.Options()
        native.lib.tessera_options_init(ctypes.byref(options), ctypes.sizeof(options))
        options.problem = native.PROBLEMS[problem]
        options.power = int(power if power is not None else (1 if problem == "gram" else 0))
        self._power = max(0, options.power)
        options.ridge = float(ridge)
        options.method = native.METHODS[method]
        options.sketch = native.SKETCHES[sketch]
        options.sketch_size_factor = float(sketch_size_factor)
        options.tolerance = 0.0 if tol is None else float(tol)
        options.max_iterations = int(max_iterations)
        options.seed = int(seed)
        options.memory_budget = 0 if memory_budget is None else int(memory_budget)
        options.rank = 0 if rank is None else int(rank)
        options.rank_deficient = native.RANK_DEFICIENT[rank_deficient]
        options.rcond = -1.0 if rcond is None else float(rcond)
        options.precision = native.PRECISIONS[precision]
        self._progress = native.PROGRESS(self._on_progress)
        options.progress = self._progress
        self._phase = native.PHASE(self._on_phase)
        options.phase = self._phase
        self._context, self.threads = _context(threads)
        handle = ctypes.c_void_p()
        self._local.interrupted = False
        _check(native.lib.tessera_plan_create(self._context, pointer, n, d, ld, order, dtype, ctypes.byref(options),
                                              ctypes.byref(handle)), self._local.interrupted)
        self._handle = handle
        self.shape = (n, d)
        self.rhs_length = native.lib.tessera_plan_rhs_length(handle)
        self.solution_length = native.lib.tessera_plan_solution_length(handle)
        self.method = native.lib.tessera_plan_method(handle).decode()

    def _on_progress(self, _user, iteration, residual):
        try:
            if self._callback is not None and self._callback(int(iteration), float(residual)) is False:
                return 1
            return 0
        except KeyboardInterrupt:
            self._local.interrupted = True
            return 1

    def _on_phase(self, _user, phase):
        if self._on_phase_callback is not None:
            try:
                self._on_phase_callback(native.PHASE_NAMES[phase] if 0 <= phase < len(native.PHASE_NAMES) else str(phase))
            except Exception:      # a callback's error must not unwind through the engine
                pass

    @property
    def uses_array_in_place(self):
        """True when the engine reads A from the array's own memory (no copy was made)."""
        address = native.lib.tessera_plan_matrix_data(self._handle)
        return address is not None and address == self._array.ctypes.data

    @property
    def array(self):
        """The array the plan reads (the caller's own when it was used in place)."""
        return self._array

    def solve(self, b, x0=None):
        """x for b of shape (k,) or a block (k, m); returns (x, info) with x of shape (len,) or
        (len, m) and info a SolveInfo (a list of them for a block). x0 (shaped like x) is a warm
        start for the iterative methods. Warns (ConvergenceWarning) when the tolerance was not
        met; x is then the best found."""
        if self._handle is None:
            raise ValueError("the plan was closed")
        b = np.asarray(b)
        if b.ndim not in (1, 2):
            raise ValueError(f"b must be 1-D (k,) or 2-D (k, m); got shape {b.shape}")
        if b.shape[0] != self.rhs_length:
            raise ValueError(f"b has {b.shape[0]} rows; this {self.problem} problem needs {self.rhs_length}")
        block = np.asfortranarray(b.reshape(b.shape[0], -1), dtype=np.float64)
        m = block.shape[1]
        if m == 0:
            raise ValueError("b has no columns")
        x = np.empty((self.solution_length, m), dtype=np.float64, order="F")
        infos = (native.Info * m)()
        # Room for every iteration: each stage (at most power + 1) runs at most max_iterations,
        # LSQR restarts at most twice.
        capacity = min(self._max_iterations * (self._power + 3) + 16, 1_000_000)
        histories = [np.zeros(capacity) for _ in range(m)]
        for info, history in zip(infos, histories):
            info.struct_size = ctypes.sizeof(native.Info)
            info.history = history.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
            info.history_capacity = capacity
        start = None
        if x0 is not None:
            start = np.asfortranarray(np.asarray(x0, dtype=np.float64).reshape(self.solution_length, -1))
            if start.shape != (self.solution_length, m):
                raise ValueError(f"x0 must have the shape of x, ({self.solution_length},) or ({self.solution_length}, {m})")
        self._local.interrupted = False
        status = native.lib.tessera_solve(self._handle, block.ctypes.data, m, block.shape[0], x.ctypes.data,
                                          self.solution_length, None if start is None else start.ctypes.data,
                                          ctypes.cast(infos, ctypes.c_void_p))
        _check(status, getattr(self._local, "interrupted", False))
        details = [SolveInfo.from_native(info, self.method, history) for info, history in zip(infos, histories)]
        if status == native.NOT_CONVERGED:
            warnings.warn(ConvergenceWarning(native.last_error()), stacklevel=2)
        first = details[0]
        if first.rank is not None and first.rank < self.shape[1]:
            warnings.warn(RankDeficientWarning(
                f"A is numerically rank deficient (rank {first.rank} of {self.shape[1]} columns); x is the minimum-norm solution"),
                stacklevel=2)
        if b.ndim == 1:
            return x[:, 0], details[0]
        return x, details

    def cross_kernel(self, X_new, alpha):
        """exp(X_new·Aᵀ)·alpha for an attention plan, in tiles (the m × n matrix is never formed)."""
        rows, pointer, m, d, ld, order, dtype = _matrix(np.asarray(X_new, dtype=np.float64))
        if d != self.shape[1]:
            raise ValueError(f"X_new has {d} columns, A has {self.shape[1]}")
        alpha = np.ascontiguousarray(alpha, dtype=np.float64)
        if alpha.shape != (self.shape[0],):
            raise ValueError(f"alpha must have shape ({self.shape[0]},); got {alpha.shape}")
        out = np.empty(m, dtype=np.float64)
        _check(native.lib.tessera_plan_cross_kernel(self._handle, pointer, m, ld, order, alpha.ctypes.data, out.ctypes.data))
        del rows
        return out

    def close(self):
        """Frees the plan now (it is freed when garbage collected otherwise)."""
        if getattr(self, "_handle", None) is not None:
            native.lib.tessera_plan_destroy(self._handle)
            self._handle = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def solve_gram(A, b, power=1, **options):
    """x = argmin ‖(AᵀA)^power x − b‖ for A (n, d), b (d,) or (d, m). Returns (x, info)."""
    with Plan(A, "gram", power=power, **options) as plan:
        return plan.solve(b)


def solve_lstsq(A, b, power=0, **options):
    """x = argmin ‖A(AᵀA)^power x − b‖ for A (n, d), b (n,) or (n, m); power 0 is least squares."""
    with Plan(A, "lstsq", power=power, **options) as plan:
        return plan.solve(b)


def solve_attention(A, b, ridge=0.0, **options):
    """x = argmin ‖(exp(AAᵀ) + ridge·I)x − b‖ for A (n, d), b (n,) or (n, m)."""
    with Plan(A, "attention", ridge=ridge, **options) as plan:
        return plan.solve(b)


@dataclass
class BatchInfo:
    """Per problem of a batch: whether its tolerance was met, its certificate and status code."""
    converged: np.ndarray
    accuracy: np.ndarray
    status: np.ndarray


def solve_batched(A, B, problem="gram", power=None, tol=None, threads=None):
    """Many small independent problems of one shape: A (count, n, d), B (count, d) for gram or
    (count, n) for lstsq. Each is solved by an exact factor with single-threaded BLAS on one
    worker; the workers share the batch. Returns (X (count, d), BatchInfo). A problem that fails
    (e.g. rank deficient) raises LinAlgError naming its index."""
    if problem not in ("gram", "lstsq"):
        raise ValueError(f"batched solves are for 'gram' and 'lstsq' (got {problem!r})")
    A = np.asarray(A)
    if A.ndim != 3:
        raise ValueError(f"A must be 3-D (count, n, d); got shape {A.shape}")
    if A.dtype != np.float64 or not A.dtype.isnative:
        A = A.astype(np.float64)
    count, n, d = A.shape
    if count == 0:
        return np.empty((0, d)), BatchInfo(np.empty(0, bool), np.empty(0), np.empty(0, np.int32))
    if A.strides[2] == 8 and A.strides[1] % 8 == 0 and A.strides[1] >= 8 * d and A.strides[0] % 8 == 0 and A.strides[0] > 0:
        ld, order, stride_a = A.strides[1] // 8, native.ROW_MAJOR, A.strides[0] // 8
    elif A.strides[1] == 8 and A.strides[2] % 8 == 0 and A.strides[2] >= 8 * n and A.strides[0] % 8 == 0 and A.strides[0] > 0:
        ld, order, stride_a = A.strides[2] // 8, native.COLUMN_MAJOR, A.strides[0] // 8
    else:
        A = np.ascontiguousarray(A)
        ld, order, stride_a = d, native.ROW_MAJOR, n * d
    length = d if problem == "gram" else n
    B = np.ascontiguousarray(B, dtype=np.float64)
    if B.shape != (count, length):
        raise ValueError(f"B must have shape ({count}, {length}) for {problem}; got {B.shape}")
    X = np.empty((count, d), dtype=np.float64)
    infos = (native.Info * count)()
    infos[0].struct_size = ctypes.sizeof(native.Info)
    options = native.Options()
    native.lib.tessera_options_init(ctypes.byref(options), ctypes.sizeof(options))
    options.problem = native.PROBLEMS[problem]
    options.power = int(power if power is not None else (1 if problem == "gram" else 0))
    options.tolerance = 0.0 if tol is None else float(tol)
    context, _ = _context(threads)
    status = native.lib.tessera_solve_batched(context, ctypes.byref(options), count, A.ctypes.data, n, d, ld, order, stride_a,
                                              B.ctypes.data, length, X.ctypes.data, d, ctypes.cast(infos, ctypes.c_void_p))
    _check(status)
    raw = np.ctypeslib.as_array(ctypes.cast(infos, ctypes.POINTER(ctypes.c_byte)), shape=(count * ctypes.sizeof(native.Info),))
    table = np.frombuffer(raw.tobytes(), dtype=np.dtype({"names": ["status", "met", "accuracy"],
                                                          "formats": ["<i4", "<i4", "<f8"],
                                                          "offsets": [native.Info.status.offset, native.Info.tolerance_met.offset,
                                                                      native.Info.accuracy.offset],
                                                          "itemsize": ctypes.sizeof(native.Info)}))
    info = BatchInfo(converged=table["met"] == 1, accuracy=table["accuracy"].copy(), status=table["status"].copy())
    if status == native.NOT_CONVERGED:
        warnings.warn(ConvergenceWarning(native.last_error()), stacklevel=2)
    return X, info
