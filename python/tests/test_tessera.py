"""The Python package against NumPy/SciPy references: every problem and method on known
solutions, C/Fortran/float32/strided inputs without copies, errors and their exception types,
warnings, cancellation (a callback and a real SIGINT), concurrent solves on one plan, batched
solves, and the scikit-learn estimator."""
import signal
import threading
import tracemalloc
import warnings

import numpy as np
import pytest

import tessera

RNG = np.random.default_rng(42)


def conditioned(n, d, kappa, seed=0):
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((n, d)))
    v, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (u * np.logspace(0, -np.log10(kappa), d)) @ v.T


def rel(x, y):
    return np.linalg.norm(x - y) / np.linalg.norm(y)


@pytest.mark.parametrize("method", ["auto", "cholesky", "direct", "pcg", "paper"])
@pytest.mark.parametrize("power", [1, 2])
def test_gram_matches_numpy(method, power):
    A = conditioned(4000, 24, 100, seed=power)
    b = RNG.standard_normal(24)
    G = A.T @ A
    expected = np.linalg.solve(np.linalg.matrix_power(G, power), b)
    x, info = tessera.solve_gram(A, b, power=power, method=method)
    assert info.converged and info.accuracy_kind == "backward_error" and info.accuracy <= 1e-12
    assert rel(x, expected) < 1e-7
    x_f, _ = tessera.solve_gram(np.asfortranarray(A), b, power=power, method=method)
    assert rel(x_f, x) < 1e-10


@pytest.mark.parametrize("method", ["auto", "cholesky", "direct", "pcg", "paper"])
def test_lstsq_matches_numpy_lstsq(method):
    A = conditioned(5000, 16, 1e3, seed=3)
    b = RNG.standard_normal(5000)
    expected = np.linalg.lstsq(A, b, rcond=None)[0]
    x, info = tessera.solve_lstsq(A, b, method=method)
    assert info.converged and info.accuracy_kind == "optimality"
    assert rel(x, expected) < 1e-8
    x1, _ = tessera.solve_lstsq(A, b, power=1, method=method)
    assert rel(x1, np.linalg.solve(A.T @ A, expected)) < 1e-6


@pytest.mark.parametrize("method", ["auto", "direct", "pcg"])
def test_attention_matches_dense_solve(method):
    A = 0.5 * RNG.standard_normal((500, 6)) / 6 ** 0.25
    b = RNG.standard_normal(500)
    K = np.exp(A @ A.T) + 1e-2 * np.eye(500)
    x, info = tessera.solve_attention(A, b, ridge=1e-2, method=method)
    assert info.converged and info.accuracy <= 1e-10
    assert rel(x, np.linalg.solve(K, b)) < 1e-6


def test_block_right_hand_sides_and_plan_reuse():
    A = conditioned(3000, 10, 10)
    B = RNG.standard_normal((3000, 3))
    plan = tessera.Plan(A, "lstsq")
    X, infos = plan.solve(B)
    assert X.shape == (10, 3) and len(infos) == 3
    assert rel(X, np.linalg.lstsq(A, B, rcond=None)[0]) < 1e-9
    x0, _ = plan.solve(B[:, 0])
    assert np.allclose(x0, X[:, 0], rtol=1e-12, atol=0)


def test_arrays_are_used_in_place_without_a_copy():
    A = RNG.standard_normal((200_000, 50))          # 80 MB
    tracemalloc.start()
    plan = tessera.Plan(A, "gram", method="cholesky")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert plan.uses_array_in_place and plan.array is A
    assert peak < 8_000_000, f"creating a plan allocated {peak} bytes in Python for an 80 MB A"
    F = np.asfortranarray(A[:1000])
    assert tessera.Plan(F, "gram").uses_array_in_place
    wide = RNG.standard_normal((1000, 30))
    view = wide[:, :20]                               # row-major with leading dimension 30
    plan_view = tessera.Plan(view, "gram")
    assert plan_view.uses_array_in_place and plan_view.array is view
    b = RNG.standard_normal(20)
    assert rel(plan_view.solve(b)[0], np.linalg.solve(view.T @ view, b)) < 1e-9
    f32 = A[:5000].astype(np.float32)
    plan32 = tessera.Plan(f32, "gram")
    assert not plan32.uses_array_in_place             # float32 is converted inside the engine
    x32, _ = plan32.solve(b[:0].tolist() + list(RNG.standard_normal(50)))
    assert np.all(np.isfinite(x32))
    ints = np.arange(6000, dtype=np.int64).reshape(1000, 6) % 7 + np.eye(1000, 6, dtype=np.int64)
    assert tessera.Plan(ints, "gram").array is not ints  # converted once, as NumPy would


def test_errors_map_to_python_conventions():
    A = RNG.standard_normal((500, 5))
    bad = A.copy()
    bad[499, 3] = np.nan
    with pytest.raises(ValueError, match="row 499, column 3"):
        tessera.solve_gram(bad, np.ones(5))
    with pytest.raises(ValueError, match="b has 4 rows"):
        tessera.solve_gram(A, np.ones(4))
    with pytest.raises(ValueError, match="2-D"):
        tessera.Plan(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="problem must be"):
        tessera.Plan(A, "nope")
    with pytest.raises(ValueError):
        tessera.solve_gram(A, np.ones(5), power=0)
    with pytest.raises(MemoryError, match="memory budget"):
        tessera.solve_gram(A, np.ones(5), memory_budget=1000)
    dependent = A.copy()
    dependent[:, 4] = dependent[:, 3]
    with pytest.raises(np.linalg.LinAlgError, match="rank deficient"):
        tessera.solve_lstsq(dependent, np.ones(500), method="direct", rank_deficient="refuse")
    with pytest.raises(ValueError, match="rank_deficient"):
        tessera.solve_lstsq(dependent, np.ones(500), rank_deficient="ignore")
    with pytest.raises(ValueError, match="rcond"):
        tessera.solve_lstsq(dependent, np.ones(500), rcond=2.0)
    with pytest.raises(ValueError):
        tessera.set_num_threads(0)


def test_a_warm_start_at_the_answer_needs_almost_no_iterations():
    A = conditioned(20000, 20, 1e3)
    b = RNG.standard_normal(20000)
    plan = tessera.Plan(A, "lstsq", method="pcg")
    x, cold = plan.solve(b)
    y, warm = plan.solve(b, x0=x)
    assert warm.iterations < cold.iterations and rel(y, x) < 1e-10
    with pytest.raises(ValueError, match="warm start 0 holds a non-finite"):
        plan.solve(b, x0=np.full(20, np.nan))


def test_not_converged_warns_and_returns_the_best_x():
    A = 0.6 * RNG.standard_normal((800, 8)) / 8 ** 0.25
    with pytest.warns(tessera.ConvergenceWarning):
        x, info = tessera.solve_attention(A, np.ones(800), ridge=1e-8, method="pcg", rank=4, max_iterations=3)
    assert not info.converged and info.status == "not_converged" and np.all(np.isfinite(x))


def test_a_callback_and_ctrl_c_cancel_a_solve():
    A = 0.6 * RNG.standard_normal((800, 8)) / 8 ** 0.25
    seen = []

    def stop_at_three(iteration, residual):
        seen.append((iteration, residual))
        return iteration < 3

    plan = tessera.Plan(A, "attention", ridge=1e-8, method="pcg", rank=4, callback=stop_at_three)
    with pytest.raises(tessera.Cancelled, match="cancelled"):
        plan.solve(np.ones(800))
    assert 3 <= len(seen) <= 4 and all(r >= 0 for _, r in seen)

    def interrupt(iteration, residual):
        if iteration == 2:
            signal.raise_signal(signal.SIGINT)       # as Ctrl-C would, while the engine runs
        return True

    plan = tessera.Plan(A, "attention", ridge=1e-8, method="pcg", rank=4, callback=interrupt)
    # Python's own Ctrl-C handler, as an interactive session has it (a process started in the
    # background inherits SIGINT ignored, and Python then leaves it so).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            plan.solve(np.ones(800))
    finally:
        signal.signal(signal.SIGINT, previous)


def test_concurrent_solves_on_one_plan_give_the_bits_of_one_at_a_time():
    A = conditioned(20000, 20, 100)
    plan = tessera.Plan(A, "gram", power=2, method="pcg")
    bs = [RNG.standard_normal(20) for _ in range(8)]
    alone = [plan.solve(b)[0] for b in bs]
    results = [None] * len(bs)

    def work(k):
        results[k] = plan.solve(bs[k])[0]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(bs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(len(bs)):
        assert np.array_equal(results[k], alone[k])


def test_batched_matches_numpy_and_has_the_same_bits_on_any_thread_count():
    count, n, d = 200, 400, 8
    A = RNG.standard_normal((count, n, d))
    B = RNG.standard_normal((count, d))
    X, info = tessera.solve_batched(A, B, "gram")
    expected = np.linalg.solve(np.swapaxes(A, 1, 2) @ A, B[..., None])[..., 0]
    assert rel(X, expected) < 1e-10 and info.converged.all()
    X1, _ = tessera.solve_batched(A, B, "gram", threads=1)
    assert np.array_equal(X, X1)
    Bl = RNG.standard_normal((count, n))
    Xl, info = tessera.solve_batched(A, Bl, "lstsq")
    expected = np.stack([np.linalg.lstsq(A[k], Bl[k], rcond=None)[0] for k in range(count)])
    assert rel(Xl, expected) < 1e-9 and info.converged.all()
    A[7, :, 3] = A[7, :, 2]
    with pytest.raises(np.linalg.LinAlgError, match="problem 7"):
        tessera.solve_batched(A, Bl, "lstsq")


def test_threads_setting():
    tessera.set_num_threads(1)
    assert tessera.get_num_threads() == 1
    tessera.set_num_threads(None)
    assert tessera.get_num_threads() >= 1


def test_attention_kernel_ridge_estimator():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV

    X = 0.5 * RNG.standard_normal((600, 5)) / 5 ** 0.25
    y = np.sin(X.sum(axis=1)) + 0.01 * RNG.standard_normal(600)
    model = tessera.AttentionKernelRidge(ridge=1e-2)
    assert clone(model).get_params() == model.get_params()
    model.fit(X[:500], y[:500])
    K = np.exp(X[:500] @ X[:500].T) + 1e-2 * np.eye(500)
    alpha = np.linalg.solve(K, y[:500])
    assert rel(model.dual_coef_, alpha) < 1e-6
    predicted = model.predict(X[500:])
    assert rel(predicted, np.exp(X[500:] @ X[:500].T) @ alpha) < 1e-6
    assert model.score(X[500:], y[500:]) > 0.9
    search = GridSearchCV(tessera.AttentionKernelRidge(), {"ridge": [1e-3, 1e-1]}, cv=2).fit(X, y)
    assert search.best_params_["ridge"] in (1e-3, 1e-1)
    assert sklearn.__version__


@pytest.mark.parametrize("problem,method,power", [("gram", "pcg", 2), ("gram", "paper", 1), ("lstsq", "pcg", 1),
                                                  ("lstsq", "paper", 0), ("gram", "cholesky", 1), ("attention", "pcg", None)])
@pytest.mark.filterwarnings("ignore::tessera.ConvergenceWarning")
def test_history_has_one_residual_per_iteration(problem, method, power):
    if problem == "attention":
        A = RNG.standard_normal((600, 6)) / np.sqrt(6)
        b = RNG.standard_normal(600)
        plan = tessera.Plan(A, "attention", ridge=1e-2, method=method)
    else:
        A = conditioned(3000, 16, 100, seed=5)
        b = RNG.standard_normal(16 if problem == "gram" else 3000)
        plan = tessera.Plan(A, problem, power=power, method=method)
    phases = []
    plan._on_phase_callback = phases.append
    _, info = plan.solve(b)
    assert len(info.history) == info.iterations
    assert all(np.isfinite(info.history)) and all(v >= 0 for v in info.history)
    if method in ("pcg", "paper"):
        assert info.iterations > 0 and info.history[-1] < info.history[0]
    assert phases[0] == "iterate" and phases[-1] == "verify"


def test_on_phase_reports_the_plan_phases_in_order():
    A = conditioned(3000, 16, 100, seed=6)
    phases = []
    plan = tessera.Plan(A, "gram", method="pcg", on_phase=phases.append)
    plan.solve(RNG.standard_normal(16))
    assert phases == ["sketch", "factor", "iterate", "verify"]


def test_plot_convergence_without_matplotlib_says_how_to_install(monkeypatch):
    import sys
    _, info = tessera.solve_gram(conditioned(3000, 16, 100, seed=7), RNG.standard_normal(16), method="pcg")
    monkeypatch.setitem(sys.modules, "matplotlib", None)       # import matplotlib now raises ImportError
    with pytest.raises(ImportError, match="pip install matplotlib"):
        tessera.plot_convergence(info)


def test_plot_convergence_draws_the_history(tmp_path):
    pytest.importorskip("matplotlib")
    A = conditioned(3000, 16, 100, seed=8)
    b = RNG.standard_normal(16)
    _, pcg = tessera.solve_gram(A, b, method="pcg")
    _, paper = tessera.solve_gram(A, b, method="paper")
    ax = tessera.plot_convergence(pcg, paper, path=tmp_path / "c.svg")
    assert [len(line.get_xdata()) for line in ax.get_lines()] == [pcg.iterations, paper.iterations]
    assert (tmp_path / "c.svg").stat().st_size > 1000
    _, exact = tessera.solve_gram(A, b, method="cholesky")
    with pytest.raises(ValueError, match="no convergence history"):
        tessera.plot_convergence(exact)
def pinv_solution(A, b, problem, power, rcond):
    """The truncated pseudo-inverse answer from NumPy's SVD of A: (A(AᵀA)^j)⁺b or ((AᵀA)⁺)^j b."""
    u, s, vt = np.linalg.svd(A, full_matrices=False)
    r = int(np.sum(s > rcond * s[0]))
    if problem == "lstsq":
        return vt[:r].T @ ((u[:, :r].T @ b) / s[:r] ** (2 * power + 1)), vt[r:]
    return vt[:r].T @ ((vt[:r] @ b) / s[:r] ** (2 * power)), vt[r:]


def rank_deficient_matrices():
    rng = np.random.default_rng(7)
    n, d = 1200, 10
    base = rng.standard_normal((n, d))
    duplicated = base.copy(); duplicated[:, 6] = duplicated[:, 2]
    zero = base.copy(); zero[:, 4] = 0
    summed = base.copy(); summed[:, 9] = base[:, 0] + base[:, 1] + base[:, 5]
    half = rng.standard_normal((n, d // 2)) @ (rng.standard_normal((d // 2, d)) * np.logspace(0, -1, d // 2)[:, None])
    s_half = np.linalg.svd(half, compute_uv=False)
    noisy = half + 1e-10 * s_half[d // 2 - 1] / np.sqrt(n) * rng.standard_normal((n, d))
    return [("duplicated", duplicated, None), ("zero column", zero, None), ("summed column", summed, None),
            ("rank d/2", half, None), ("noise 1e-10 below", noisy, 1e-7)]


@pytest.mark.parametrize("name,A,rcond", rank_deficient_matrices(), ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("method", ["auto", "paper", "pcg", "direct", "cholesky"])
def test_rank_deficient_gives_numpys_minimum_norm_solution(name, A, rcond, method):
    n, d = A.shape
    cut = rcond if rcond is not None else np.finfo(np.float64).eps * max(n, d)
    rng = np.random.default_rng(3)
    for problem, power in [("lstsq", 0), ("lstsq", 1), ("lstsq", 2), ("gram", 1), ("gram", 2)]:
        b = rng.standard_normal(n if problem == "lstsq" else d)
        expected, null = pinv_solution(A, b, problem, power, cut)
        s = np.linalg.svd(A, compute_uv=False)
        kept = s[s > cut * s[0]]
        kappa = kept[0] / kept[-1]
        allowed = max(1e-10, 100 * kappa ** (2 * power + (problem == "lstsq")) * 1.1e-16)
        solve = tessera.solve_lstsq if problem == "lstsq" else tessera.solve_gram
        with pytest.warns(tessera.RankDeficientWarning, match=f"rank {len(kept)} of {d}"):
            x, info = solve(A, b, power=power, method=method, rcond=rcond)
        assert rel(x, expected) <= allowed, (problem, power)
        assert np.linalg.norm(null @ x) <= 1e-12 * np.linalg.norm(x), "x has a component in the null space"
        assert info.converged, info
        assert info.rank == len(kept)
        assert info.smallest_kept_singular_value == pytest.approx(kept[-1], rel=1e-9)
        assert info.largest_dropped_singular_value <= cut * s[0]
    if rcond is None:
        x0, _ = np.linalg.lstsq(A, b_ls := rng.standard_normal(n), rcond=None)[:2]
        with pytest.warns(tessera.RankDeficientWarning):
            x, _ = tessera.solve_lstsq(A, b_ls, method=method)
        assert rel(x, x0) < 1e-10


def test_digits_matches_numpy_lstsq():
    """scikit-learn's digits (1797 × 64, three pixel columns always zero: rank 61), b = labels."""
    from sklearn.datasets import load_digits
    A, y = load_digits(return_X_y=True)
    A = A.astype(np.float64); y = y.astype(np.float64)
    expected, _, rank, _ = np.linalg.lstsq(A, y, rcond=None)
    assert rank == 61
    for method in ["auto", "paper", "pcg", "direct", "cholesky"]:
        with pytest.warns(tessera.RankDeficientWarning, match="rank 61 of 64"):
            x, info = tessera.solve_lstsq(A, y, method=method)
        assert rel(x, expected) < 1e-10, method
        assert info.rank == 61 and info.converged
    with pytest.raises(np.linalg.LinAlgError, match="rank 61 of 64"):
        tessera.solve_lstsq(A, y, rank_deficient="refuse")


def test_full_rank_reports_no_rank():
    A = conditioned(2000, 8, 100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x, info = tessera.solve_lstsq(A, RNG.standard_normal(2000))
    assert info.rank is None
