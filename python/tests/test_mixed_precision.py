"""precision="mixed": the Gram preconditioner (gram/lstsq) or the inner kernel products (attention)
in float32, iterations and certificate in float64."""
import numpy as np
import pytest

import tessera


def conditioned(n, d, kappa, seed):
    rng = np.random.default_rng(seed)
    u, _ = np.linalg.qr(rng.standard_normal((n, d)))
    v, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (u * np.logspace(0, -np.log10(kappa), d)) @ v.T


@pytest.mark.parametrize("problem,power", [("gram", 1), ("gram", 2), ("lstsq", 0), ("lstsq", 1)])
def test_mixed_precision_matches_the_float64_answer(problem, power):
    A = conditioned(4000, 150, 100.0, seed=5)
    b = np.random.default_rng(6).standard_normal(150 if problem == "gram" else 4000)
    solve = tessera.solve_gram if problem == "gram" else tessera.solve_lstsq
    x, info = solve(A, b, power=power, precision="mixed")
    x0, _ = solve(A, b, power=power, method="cholesky")
    assert info.converged and info.method == "pcg", info
    assert np.linalg.norm(x - x0) / np.linalg.norm(x0) <= 1e-8


def test_precision_is_checked():
    A = np.random.default_rng(1).standard_normal((100, 4))
    with pytest.raises(ValueError, match="precision"):
        tessera.solve_gram(A, np.ones(4), precision="half")
    with pytest.raises(ValueError, match="does not combine with --method direct"):
        tessera.solve_attention(A * 0.3, np.ones(100), ridge=0.1, precision="mixed", method="direct")
    with pytest.raises(ValueError, match="does not combine"):
        tessera.solve_gram(A, np.ones(4), precision="mixed", method="cholesky")


def test_mixed_attention_matches_the_float64_answer():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((3000, 16))
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    b = rng.standard_normal(3000)
    x, info = tessera.solve_attention(A, b, ridge=1e-3, precision="mixed", tol=1e-10)
    x0, info0 = tessera.solve_attention(A, b, ridge=1e-3, method="pcg", precision="double", tol=1e-10)
    assert info.converged and info.method == "pcg" and info.accuracy <= 1e-10, info
    K = np.exp(A @ A.T) + 1e-3 * np.eye(3000)
    assert np.linalg.norm(K @ x - b) / np.linalg.norm(b) <= 1e-10
    assert np.linalg.norm(x - x0) / np.linalg.norm(x0) <= 1e-5
