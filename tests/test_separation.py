"""The rigorous separation test shared by encdec's vertex screen and factmlp.real.vertex_screen."""

from __future__ import annotations

import numpy as np
import pytest

from factmlp._separation import separated
from factmlp.feasibility import is_vertex_lp


def _near_ties(seed: int, d: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Points a, b, their midpoint m (exact), and u orthogonal to a - b: the midpoint is not a vertex."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(d), rng.standard_normal(d)
    m = (a + b) / 2  # exact in float64 unless an entry underflows
    w = a - b
    u = rng.standard_normal(d)
    u -= (u @ w) / (w @ w) * w  # <u, a> = <u, b> up to rounding: the computed gap of m is ~ +-1 ulp
    return np.stack([a, b, m]), u


def test_midpoints_are_never_separated_but_the_naive_test_says_so():
    naive_wrong = 0
    for seed in range(300):
        V, u = _near_ties(seed)
        assert not separated(V, np.array([2]), u[None, :])[0], seed
        s = V @ u
        naive_wrong += int(s[2] - max(s[0], s[1]) > 0)  # the mutant: no rounding allowance
    assert naive_wrong > 0  # the allowance is what keeps these out


@pytest.mark.parametrize("scale_exp", [-1000, -500, 0, 500, 1000])
def test_verdict_is_scale_invariant_and_agrees_with_the_lp(scale_exp):
    rng = np.random.default_rng(7)
    S = rng.standard_normal((60, 8))
    S /= np.linalg.norm(S, axis=1, keepdims=True)
    inner = 0.5 * (S[:10] + S[10:20])  # midpoints of two sphere points: inside the hull
    V = np.vstack([S, inner, S[3:4]])  # and a duplicate of row 3
    rows = np.arange(V.shape[0])
    got = separated(np.ldexp(V, scale_exp), rows, V)  # u = v_j: separates every sphere point
    assert got.tolist() == separated(V, rows, V).tolist()
    assert got[:60].sum() == 59  # every sphere point but row 3 (duplicated as row 70)
    assert not got[[3, 70]].any()
    assert not got[60:70].any()
    for j in np.flatnonzero(got):
        assert is_vertex_lp(V, int(j))


def test_zero_nan_and_single_point_directions():
    V = np.eye(3)
    assert not separated(V, np.array([0, 1]), np.array([[0.0, 0, 0], [np.nan, 1, 0]])).any()
    assert separated(V[:1], np.array([0]), np.ones((1, 3)))[0]
    assert separated(V, np.zeros(0, dtype=np.int64), np.zeros((0, 3))).size == 0
