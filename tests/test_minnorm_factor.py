"""The incrementally updated Cholesky factor of Wolfe's corral matches a fresh factorisation."""

import numpy as np
import pytest

from factmlp._minnorm import _Factor, wolfe_gram


def _gram(rng, k, d):
    p = rng.standard_normal((k, d))
    p /= np.linalg.norm(p, axis=1)[:, None]
    return p, p @ p.T


@pytest.mark.parametrize("seed", range(5))
def test_add_remove_matches_fresh_cholesky(seed):
    rng = np.random.default_rng(seed)
    _, g = _gram(rng, 30, 40)
    corral = [0, 1]
    fac = _Factor(g[np.ix_(corral, corral)] + 1.0)
    for step in range(60):
        if len(corral) < 3 or rng.random() < 0.6:
            a = int(rng.choice([i for i in range(30) if i not in corral]))
            fac.add(g[corral, a] + 1.0, float(g[a, a]) + 1.0)
            corral.append(a)
        else:
            k = int(rng.integers(len(corral)))
            fac.remove(k)
            corral.pop(k)
        assert fac.ok, step
        m = g[np.ix_(corral, corral)] + 1.0
        np.testing.assert_allclose(fac.L @ fac.L.T, m, atol=1e-12)
        assert np.all(np.diag(fac.L) > 0)
        mu = fac.minimizer()
        ref = np.linalg.solve(m, np.ones(len(corral)))
        np.testing.assert_allclose(mu, ref / ref.sum(), atol=1e-10)


def test_dependent_point_flags_the_factor():
    rng = np.random.default_rng(0)
    p, g = _gram(rng, 4, 2)  # 4 unit points in the plane: at most 3 affinely independent
    fac = _Factor(g[:3, :3] + 1.0)
    fac.add(g[:3, 3] + 1.0, float(g[3, 3]) + 1.0)
    assert not fac.ok


@pytest.mark.parametrize("seed", range(20))
def test_wolfe_meets_the_optimality_condition(seed):
    rng = np.random.default_rng(seed)
    k, d = int(rng.integers(3, 50)), int(rng.integers(2, 30))
    p = rng.standard_normal((k, d)) + rng.standard_normal(d) * 2.0
    p /= np.linalg.norm(p, axis=1)[:, None]
    supp, lam, _ = wolfe_gram(p @ p.T)
    x = lam @ p[supp]
    xx = float(x @ x)
    assert abs(lam.sum() - 1.0) < 1e-12 and np.all(lam >= 0)
    if xx > 1e-20:  # min_a <p_a, x> >= ||x||^2 (KKT of the simplex problem), up to rounding
        assert float(np.min(p @ x)) >= xx * (1 - 1e-9)
