"""Extreme ranges: high powers (j up to 64), ‖A‖ far from 1 in both directions, and columns
scaled over ten orders of magnitude. References come from NumPy (extended precision where
powers are involved) or from the unscaled problem, never from Tessera itself."""
import warnings

import numpy as np
import pytest

import tessera

U = 2.0 ** -53
L = np.longdouble


def conditioned(n, d, kappa, seed):
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((n, d)))
    v, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (u * np.logspace(0, -np.log10(kappa), d)) @ v.T


@pytest.mark.parametrize("power", [16, 32, 64])
@pytest.mark.parametrize("method", ["cholesky", "pcg"])
def test_high_powers_keep_a_small_backward_error(power, method):
    """gram with j = 16, 32, 64 (κ(A) = 2, so κ(M) = 2^{2j} up to 2^128): the backward error of
    (AᵀA)^j x = b, recomputed in extended precision, stays at rounding level (exact factor) or
    within the tolerance (pcg), and the solve says it converged."""
    n, d = 1500, 8
    A = conditioned(n, d, 2.0, seed=power)
    b = np.random.default_rng(power).standard_normal(d)
    x, info = tessera.solve_gram(A, b, power=power, method=method)
    y = x.astype(L)
    al = A.astype(L)
    for _ in range(power):
        y = al.T @ (al @ y)
    norm_m = L(np.linalg.norm(A, 2)) ** (2 * power)
    eta = float(np.linalg.norm(y - b.astype(L)) / (norm_m * np.linalg.norm(x.astype(L)) + np.linalg.norm(b.astype(L))))
    assert info.converged, info
    assert eta <= (power * d * U if method == "cholesky" else 1e-12 + power * d * U), f"η = {eta:.2e}"
    assert info.accuracy >= 0.5 * eta - U


CASES = [("gram", 1, 1e100), ("gram", 1, 1e-100), ("gram", 2, 1e50), ("gram", 2, 1e-50),
         ("lstsq", 0, 1e150), ("lstsq", 0, 1e-150), ("lstsq", 1, 1e90), ("lstsq", 1, 1e-90)]


@pytest.mark.parametrize("problem,power,scale", CASES)
@pytest.mark.parametrize("method", ["cholesky", "direct", "pcg", "paper"])
def test_scaled_a_gives_the_scaled_answer_and_the_same_certificate(problem, power, scale, method):
    """A → sA with s = 1e±50 … 1e±150 (x stays representable): x scales by s^{-2j} (gram) or
    s^{-(2j+1)} (lstsq) to 1e-12 of the unscaled answer, and the certificate is the unscaled one's
    to within a factor of 2 or both at rounding level (it is scale-invariant), converged both
    times."""
    n, d = 2000, 8
    A = conditioned(n, d, 10.0, seed=7)
    rng = np.random.default_rng(8)
    b = rng.standard_normal(d if problem == "gram" else n)
    solve = tessera.solve_gram if problem == "gram" else tessera.solve_lstsq
    x0, info0 = solve(A, b, power=power, method=method)
    x, info = solve(A * scale, b, power=power, method=method)
    exponent = 2 * power if problem == "gram" else 2 * power + 1
    # x·s^e without overflow: multiply by s one factor at a time.
    rescaled = x.copy()
    for _ in range(exponent):
        rescaled = rescaled * scale
    label = f"{problem} j={power} s={scale:g} {method}: {info.accuracy:.2e} vs {info0.accuracy:.2e}"
    assert info0.converged and info.converged, label
    assert np.linalg.norm(rescaled - x0) / np.linalg.norm(x0) <= (1e-12 if method in ("cholesky", "direct") else 1e-8), label
    # The same certificate: within a factor of 2, or both at rounding level (100u).
    assert 0.5 * info0.accuracy - 100 * U <= info.accuracy <= 2 * info0.accuracy + 100 * U, label


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_least_squares_certificate_at_the_ends_of_the_float_range(scale):
    """lstsq j = 0 with ‖A‖ = 1e±300: x = A⁺b is representable (1e∓300); Tessera solves
    2^s·A at unit scale (its Gram would over- or underflow) and maps x back, so x is right and
    the certificate is the unscaled one's."""
    n, d = 2000, 8
    A = conditioned(n, d, 10.0, seed=7)
    b = np.random.default_rng(8).standard_normal(n)
    x0, info0 = tessera.solve_lstsq(A, b, method="cholesky")
    x, info = tessera.solve_lstsq(A * scale, b, method="cholesky")
    assert np.linalg.norm(x * scale - x0) / np.linalg.norm(x0) <= 1e-12
    assert info.converged and info.accuracy <= 2 * info0.accuracy + U, info


# The float-limits set: A and b scaled by 1e±150 and 1e±300, every tall problem and method. x
# scales as s_b / s_A^e (e = 2j for gram, 2j + 1 for lstsq); where that x is a float64 Tessera
# returns it, scaled, with the unscaled problem's certificate; where it is not, the solve says so
# (not converged) instead of returning zeros or infinities as an answer.
LIMITS = [(sa, sb) for sa in (1e150, 1e-150, 1e300, 1e-300) for sb in (1.0, sa)] + [(1.0, 1e300), (1.0, 1e-300)]
TALL = [("gram", 1), ("gram", 2), ("lstsq", 0), ("lstsq", 1)]


@pytest.mark.parametrize("sa,sb", LIMITS)
@pytest.mark.parametrize("problem,power", TALL)
@pytest.mark.parametrize("method", ["auto", "cholesky", "direct", "pcg", "paper"])
def test_float_limits_give_the_scaled_answer_or_say_why_not(method, problem, power, sa, sb):
    n, d = 1500, 6
    A = conditioned(n, d, 10.0, seed=11)
    b = np.random.default_rng(12).standard_normal(d if problem == "gram" else n)
    solve = tessera.solve_gram if problem == "gram" else tessera.solve_lstsq
    x0, info0 = solve(A, b, power=power, method=method)
    assert info0.converged
    e = 2 * power if problem == "gram" else 2 * power + 1
    log10_x = np.log10(np.abs(x0).max()) - e * np.log10(sa) + np.log10(sb)
    label = f"{problem} j={power} {method} A·{sa:g} b·{sb:g} (x ≈ 1e{log10_x:.0f})"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tessera.ConvergenceWarning)
        x, info = solve(A * sa, b * sb, power=power, method=method)
    if -300 < log10_x < 300:
        # x·s_A^e/s_b, one factor at a time (in extended precision) so that nothing overflows.
        back = x.astype(L)
        for _ in range(e):
            back = back * L(sa)
        back = back / L(sb)
        error = float(np.linalg.norm(back - x0.astype(L)) / np.linalg.norm(x0))
        assert info.converged, label
        assert error <= (1e-12 if method in ("cholesky", "direct") else 1e-8), f"{label}: {error:.1e}"
        assert 0.5 * info0.accuracy - 100 * U <= info.accuracy <= 2 * info0.accuracy + 100 * U, f"{label}: {info.accuracy:.2e} vs {info0.accuracy:.2e}"
    elif not -320 < log10_x < 320:
        assert not info.converged, f"{label}: x is not a float64, yet the solve says it converged"
        # The certificate is still that of x at unit scale, and honest.
        assert info.accuracy <= 2 * info0.accuracy + 100 * U, label


@pytest.mark.parametrize("sb", [1e150, 1e-150, 1e300, 1e-300])
@pytest.mark.parametrize("method", ["auto", "pcg", "direct", "paper"])
def test_attention_right_hand_sides_at_the_float_limits(method, sb):
    """(exp(AAᵀ) + λI)x = b is linear in b: b·s gives x·s with the same certificate (A enters
    through exp and has no such symmetry; its range is checked by the planner)."""
    rng = np.random.default_rng(2)
    A = rng.standard_normal((500, 8))
    A /= np.linalg.norm(A, axis=1, keepdims=True) * 1.25
    b = rng.standard_normal(500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tessera.ConvergenceWarning)
        x0, info0 = tessera.solve_attention(A, b, ridge=1e-3, method=method)
        x, info = tessera.solve_attention(A, b * sb, ridge=1e-3, method=method)
    label = f"{method} b·{sb:g}: {info.accuracy:.2e} vs {info0.accuracy:.2e}"
    assert info.converged == info0.converged, label
    assert np.linalg.norm(x / sb - x0) / np.linalg.norm(x0) <= 1e-8, label
    assert 0.5 * info0.accuracy - 100 * U <= info.accuracy <= 2 * info0.accuracy + 100 * U, label


def test_lstsq_with_b_near_the_largest_double():
    """b ≈ 1e307 (its squared norm overflows): solved at unit scale, x = A⁺b is right."""
    A = conditioned(2000, 8, 10.0, seed=7)
    b = np.random.default_rng(9).standard_normal(2000)
    x0, info0 = tessera.solve_lstsq(A, b, method="direct")
    x, info = tessera.solve_lstsq(A, b * 1e307, method="direct")
    assert info.converged, info
    assert np.linalg.norm(x / 1e307 - x0) / np.linalg.norm(x0) <= 1e-12


@pytest.mark.parametrize("method", ["auto", "cholesky", "direct", "pcg", "paper"])
def test_columns_scaled_over_ten_orders(method):
    """A = B·D with D = diag(10^-5 … 10^5): every method returns x with D·x equal to B's own
    least-squares solution — to 1e-12 for the exact factors, whose R absorbs D, 1e-10 for pcg —
    a componentwise accuracy NumPy's lstsq on A does not reach. The paper's Richardson stops at
    the normwise float64 floor, which the certificate states. (Over twelve orders κ(A) ≈ 1e12
    comes within 4× of 1/rcond and the planner takes the rank-revealing SVD route, which is not
    column-scale invariant: 1e-11 there.)"""
    rng = np.random.default_rng(3)
    n, d = 2000, 10
    B = rng.standard_normal((n, d))
    D = np.logspace(-5, 5, d)
    b = rng.standard_normal(n)
    reference = np.linalg.lstsq(B, b, rcond=None)[0]
    x, info = tessera.solve_lstsq(B * D, b, method=method)
    error = np.linalg.norm(x * D - reference) / np.linalg.norm(reference)
    assert info.converged, info
    if method == "paper":
        assert info.accuracy <= max(1e-12, 2 * info.accuracy_floor), info
    else:
        assert error <= (1e-10 if method == "pcg" else 1e-12), f"{method}: {error:.2e}"
