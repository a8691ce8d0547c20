"""An independent oracle for every tall problem, method and power: NumPy in extended precision
(np.longdouble, 64-bit significand on x86-64) recomputes the residual of Tessera's x with the
exact ‖A‖₂ (from NumPy's SVD), shares no code with the engine, and checks

* gram, min ‖(AᵀA)^j x − b‖ (j = 1…3): the normwise backward error
  η = ‖Mx − b‖ / (‖M‖‖x‖ + ‖b‖), M = (AᵀA)^j, is at most j·d·u for the exact factors and at most
  the tolerance (plus j·d·u) for the iterations — whatever κ(A) ∈ {1, 1e3, 1e6, 1e8}, since a
  backward-stable method's η does not grow with κ (κ = 1e8 makes AᵀA singular in float64:
  the route falls back to randomized Cholesky-QR);
* lstsq, min ‖A(AᵀA)^j x − b‖ (j = 0…3): the backward error of the normal equations
  ω = ‖Mᵀr‖ / (‖M‖(‖M‖‖x‖ + ‖b‖)), r = b − Mx, M = A(AᵀA)^j, is at most 4(2j+1)·d·u for the
  exact factors and the tolerance (plus that) for the iterations;
* the certificate Tessera prints is not optimistic: its backward error (gram) or optimality
  ‖Mᵀr‖/(‖M‖‖r‖) (lstsq) is at least half the oracle's, and a solve that says it converged has
  an oracle value within its tolerance (lstsq: or within the float64 floor u·‖M‖‖x‖/‖r‖ it
  prints, which is what "converged" means where κ(M)·u is large).
u = 2⁻⁵³; n = 2000, d = 16."""
import warnings

import numpy as np
import pytest

import tessera

U = 2.0 ** -53
N, D = 2000, 16
TOLERANCE = 1e-12
EXACT = {"auto", "cholesky", "direct"}
L = np.longdouble


def conditioned(kappa, seed):
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((N, D)))
    v, _ = np.linalg.qr(rng.standard_normal((D, D)))
    return (u * np.logspace(0, -np.log10(kappa), D)) @ v.T


def gram_power(a, y, j):
    for _ in range(j):
        y = a.T @ (a @ y)
    return y


@pytest.mark.parametrize("kappa", [1.0, 1e3, 1e6, 1e8])
@pytest.mark.parametrize("method", ["auto", "cholesky", "direct", "pcg", "paper"])
@pytest.mark.parametrize("power", [1, 2, 3])
def test_gram_backward_error_against_extended_precision(kappa, method, power):
    A = conditioned(kappa, seed=power)
    b = np.random.default_rng(10 + power).standard_normal(D)
    x, info = tessera.solve_gram(A, b, power=power, method=method, tol=TOLERANCE)
    norm_m = np.linalg.norm(A, 2) ** (2 * power)
    r = gram_power(A.astype(L), x.astype(L), power) - b.astype(L)
    eta = float(np.linalg.norm(r) / (L(norm_m) * np.linalg.norm(x.astype(L)) + np.linalg.norm(b.astype(L))))
    floor = power * D * U
    label = f"κ={kappa:g} j={power} {method}: oracle η={eta:.2e}, printed {info.accuracy:.2e}"
    assert info.converged, label
    assert eta <= (floor if method in EXACT else TOLERANCE + floor), label
    assert info.accuracy >= 0.5 * eta - U, label


@pytest.mark.parametrize("kappa", [1.0, 1e3, 1e6, 1e8])
@pytest.mark.parametrize("method", ["auto", "cholesky", "direct", "pcg", "paper"])
@pytest.mark.parametrize("power", [0, 1, 2, 3])
def test_lstsq_normal_equations_against_extended_precision(kappa, method, power):
    A = conditioned(kappa, seed=20 + power)
    b = np.random.default_rng(30 + power).standard_normal(N)
    with warnings.catch_warnings():
        # Where κ^{2j+1}·u ≥ 1 the optimality cannot be certified in float64: a ConvergenceWarning.
        warnings.simplefilter("ignore", tessera.ConvergenceWarning)
        x, info = tessera.solve_lstsq(A, b, power=power, method=method, tol=TOLERANCE)
    al = A.astype(L)
    norm_m = L(np.linalg.norm(A, 2)) ** (2 * power + 1)
    r = b.astype(L) - al @ gram_power(al, x.astype(L), power)
    mtr = gram_power(al, al.T @ r, power)
    omega = float(np.linalg.norm(mtr) / (norm_m * (norm_m * np.linalg.norm(x.astype(L)) + np.linalg.norm(b.astype(L)))))
    optimality = float(np.linalg.norm(mtr) / (norm_m * np.linalg.norm(r)))
    floor = 4 * (2 * power + 1) * D * U
    label = (f"κ={kappa:g} j={power} {method}: oracle ω={omega:.2e}, optimality {optimality:.2e}, "
             f"printed {info.accuracy:.2e} ({info.status})")
    assert omega <= (floor if method in EXACT else TOLERANCE + floor), label
    assert info.accuracy >= 0.5 * optimality - U, label
    if info.converged:
        # Converged means within the tolerance or within the float64 floor u·‖M‖‖x‖/‖r‖ it prints.
        assert optimality <= 2 * max(TOLERANCE, info.accuracy_floor) + floor, label


@pytest.mark.parametrize("method", ["auto", "pcg", "direct", "paper"])
@pytest.mark.parametrize("ridge", [1e-2, 1e-1])
def test_attention_residual_against_numpy(method, ridge):
    """attention, min ‖(exp(AAᵀ) + λI)x − b‖: the relative residual of x with K formed by NumPy
    (np.exp of A·Aᵀ, no Tessera code) is within the tolerance (plus n·u·‖K‖‖x‖/‖b‖ for K's own
    rounding), and the printed relative residual agrees with it. d = 4, rows of norm 0.8: a case
    the paper's method solves (its realistic cases are in the Swift suite)."""
    rng = np.random.default_rng(5)
    n, d = 700, 4
    A = rng.standard_normal((n, d))
    A *= 0.8 / np.linalg.norm(A, axis=1, keepdims=True)
    b = rng.standard_normal(n)
    x, info = tessera.solve_attention(A, b, ridge=ridge, method=method, tol=1e-10)
    K = np.exp(A @ A.T) + ridge * np.eye(n)
    residual = np.linalg.norm(K @ x - b) / np.linalg.norm(b)
    rounding = n * U * np.linalg.norm(K, 2) * np.linalg.norm(x) / np.linalg.norm(b)
    label = f"λ={ridge} {method}: NumPy residual {residual:.2e}, printed {info.accuracy:.2e} ({info.status})"
    assert info.converged, label
    assert residual <= 1e-10 + rounding, label
    assert abs(info.accuracy - residual) <= 0.5 * residual + rounding, label
