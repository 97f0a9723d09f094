"""Exact decodability rho: closed forms, invariances, certificates, degenerate values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from factmlp.decodability import decodability, find_duplicates, rho
from factmlp.errors import DTypeError, EmptyInputError, InvalidInputError, MappingRangeError, NonFiniteError, ShapeError
from factmlp.feasibility import is_vertex_lp


def _points(seed: int, n: int, d: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d))


def _indep_check(v: np.ndarray, res, j: int) -> None:
    """Re-evaluate value j's certificate from scratch (explicit differences)."""
    c = res.certificate(j)
    others = np.array([i for i in range(v.shape[0]) if i != j])
    diff = v[j] - v[others]
    w = diff / np.linalg.norm(diff, axis=1, keepdims=True)
    u = np.asarray(c["u"])
    lam = np.asarray(c["weights"])
    assert np.linalg.norm(u) <= 1 + 1e-12
    assert np.all(lam >= 0) and abs(lam.sum() - 1) <= 1e-12
    assert c["lower"] <= c["upper"]
    # lower bound: min over ALL differences at u
    assert np.min(w @ u) >= c["lower"] - 1e-12 or c["lower"] == 0.0
    # upper bound: the weighted combination of the support
    wl = v[j] - v[c["support"]]
    wl = wl / np.linalg.norm(wl, axis=1, keepdims=True)
    assert np.linalg.norm(lam @ wl) <= c["upper"] + 1e-12
    if res.vertex[j]:
        assert c["upper"] - c["lower"] <= res.tol * c["upper"]
        assert abs(np.linalg.norm(u) - 1) <= 1e-12


# ---- closed forms ------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 3, 4, 6, 9])
def test_regular_simplex_closed_form(n):
    # n vertices in R^{n-1}: centred standard basis of R^n, rotated into R^{n-1}
    e = np.eye(n) - 1.0 / n
    q, _ = np.linalg.qr(e.T)
    v = e @ q[:, : n - 1]
    res = decodability(v)
    expected = np.sqrt(n / (2.0 * (n - 1)))
    assert np.all(res.vertex)
    assert np.all(res.lower <= expected + 1e-15) and np.all(expected <= res.upper + 1e-15)
    assert abs(res.rho - expected) <= 1e-9 * expected


@pytest.mark.parametrize("d", [2, 3, 5, 16])
def test_cross_polytope_closed_form(d):
    v = np.vstack([np.eye(d), -np.eye(d)])
    res = decodability(v)
    expected = 1 / np.sqrt(2)
    assert np.all(res.vertex)
    assert np.all(res.lower <= expected + 1e-15) and np.all(expected <= res.upper + 1e-15)
    np.testing.assert_allclose(res.rho_per_value, expected, rtol=1e-9)


@given(seed=st.integers(0, 2**31), d=st.integers(1, 6))
def test_two_points_give_one(seed, d):
    v = _points(seed, 2, d)
    res = decodability(v)
    assert np.all(res.lower <= 1.0) and np.all(res.upper >= 1.0 - 1e-15)
    assert abs(res.rho - 1.0) <= 1e-9


@given(seed=st.integers(0, 2**31), n=st.integers(3, 9))
def test_brute_force_angle_sweep_2d(seed, n):
    v = _points(seed, n, 2)
    res = decodability(v)
    m = 200_000
    th = np.linspace(0, 2 * np.pi, m, endpoint=False)
    u = np.stack([np.cos(th), np.sin(th)], axis=1)
    step = 2 * np.pi / m
    for j in range(n):
        w = v[j] - np.delete(v, j, axis=0)
        w /= np.linalg.norm(w, axis=1, keepdims=True)
        brute = max(0.0, float(np.max(np.min(w @ u.T, axis=0))))
        # brute is attained by a unit u: never above the certified upper bound;
        # the min of 1-Lipschitz functions of the angle loses at most step/2 on the grid
        assert brute <= res.upper[j] + 1e-12
        assert brute >= res.lower[j] - step / 2 - 1e-12


# ---- invariances and range ---------------------------------------------------


@given(
    seed=st.integers(0, 2**31),
    n=st.integers(2, 14),
    d=st.integers(1, 5),
    scale=st.floats(1e-3, 1e3),
    shift=st.floats(-10, 10),
)
def test_invariance_rotation_translation_scaling(seed, n, d, scale, shift):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, d))
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    t = shift * rng.standard_normal(d)
    base = decodability(v)
    for w in (v @ q.T, v + t, scale * v):
        other = decodability(w)
        assert np.array_equal(base.vertex, other.vertex)
        np.testing.assert_allclose(other.rho_per_value, base.rho_per_value, rtol=1e-8, atol=1e-10)
    assert np.all(base.upper <= 1.0)
    assert np.all(base.rho_per_value <= 1.0) and np.all(base.rho_per_value >= 0.0)


@given(seed=st.integers(0, 2**31), n=st.integers(3, 40), d=st.integers(2, 6))
def test_certificates_hold_independently(seed, n, d):
    v = _points(seed, n, d)
    res = decodability(v)
    for j in range(n):
        _indep_check(v, res, j)


def test_pruned_solver_large_enough_to_prune():
    # N well above the initial candidate set (2(d+1)), so violators must be added
    rng = np.random.default_rng(7)
    v = rng.standard_normal((300, 3))
    v[:150] /= np.linalg.norm(v[:150], axis=1, keepdims=True)
    res = decodability(v)
    for j in range(0, 300, 7):
        _indep_check(v, res, j)
        assert res.vertex[j] == is_vertex_lp(v, j)


# ---- degenerate values -------------------------------------------------------


@given(seed=st.integers(0, 2**31), n=st.integers(4, 12), d=st.integers(2, 4), n_in=st.integers(1, 3))
def test_vertex_status_agrees_with_lp(seed, n, d, n_in):
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, d))
    lam = rng.dirichlet(np.ones(n), size=n_in)
    v = np.vstack([v, lam @ v])  # strict convex combinations: interior points
    res = decodability(v)
    for j in range(v.shape[0]):
        assert bool(res.vertex[j]) == is_vertex_lp(v, j), j
    assert not np.any(res.vertex[n:])
    assert np.all(res.rho_per_value[n:] == 0.0)
    assert res.rho == 0.0
    assert set(range(n, n + n_in)) <= set(res.non_vertices().tolist())


def test_duplicates_detected():
    v = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [-0.0, 1.0]])
    res = decodability(v)
    assert res.duplicate_of.tolist() == [-1, 3, 4, 1, 2]
    assert res.non_vertices().tolist() == [1, 2, 3, 4]
    assert np.all(res.rho_per_value[1:] == 0.0) and res.rho == 0.0
    assert res.vertex[0] and res.rho_per_value[0] > 0
    np.testing.assert_array_equal(find_duplicates(v), res.duplicate_of)
    assert res.certificate(3)["support"] == [1]


def test_point_on_edge_vs_just_outside():
    sq = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    on = decodability(np.vstack([sq, [[0.5, 0.0]]]))
    assert not on.vertex[4] and on.rho_per_value[4] == 0.0
    out = decodability(np.vstack([sq, [[0.5, -1e-6]]]))
    assert out.vertex[4] and out.lower[4] > 0
    assert is_vertex_lp(np.vstack([sq, [[0.5, -1e-6]]]), 4)
    # rho_4 = sin(angle) of the nearly flat corner: 1e-6 / sqrt(0.25 + 1e-12)
    exact = 1e-6 / np.sqrt(0.25 + 1e-12)
    assert out.lower[4] <= exact <= out.upper[4]


def test_indices_subset_and_float32():
    v = _points(3, 20, 3).astype(np.float32)
    res = decodability(v, [5, 2, 2, 9])
    assert res.indices.tolist() == [2, 5, 9]
    mask = np.ones(20, bool)
    mask[[2, 5, 9]] = False
    assert np.all(np.isnan(res.rho_per_value[mask])) and np.all(np.isnan(res.lower[mask]))
    assert np.all(res.directions[mask] == 0)
    full = decodability(v.astype(np.float64))
    np.testing.assert_allclose(res.rho_per_value[[2, 5, 9]], full.rho_per_value[[2, 5, 9]], rtol=1e-12)
    expected = np.min(full.rho_per_value[[2, 5, 9]]) if full.vertex[[2, 5, 9]].all() else 0.0
    assert rho(v, [2, 5, 9]) == pytest.approx(expected, rel=1e-12)
    with pytest.raises(InvalidInputError):
        res.certificate(0)


@pytest.mark.parametrize(
    "values, indices, err",
    [
        (np.array([[0.0, np.nan], [1.0, 0.0]]), None, NonFiniteError),
        (np.array([[0.0, np.inf], [1.0, 0.0]]), None, NonFiniteError),
        (np.array([[0, 1], [1, 0]]), None, DTypeError),
        (np.array([[0.0, 1.0]]), None, EmptyInputError),
        (np.zeros((0, 3)), None, EmptyInputError),
        (np.array([0.0, 1.0, 2.0]), None, ShapeError),
        (np.eye(3), [0, 3], MappingRangeError),
        (np.eye(3), [-1], MappingRangeError),
        (np.eye(3), [0.5], DTypeError),
        (np.eye(3), [], EmptyInputError),
    ],
)
def test_bad_input_typed_errors(values, indices, err):
    with pytest.raises(err):
        decodability(values, indices)


@pytest.mark.parametrize("tol", [0.0, -1e-9, 1.0, float("nan"), "x"])
def test_bad_tol(tol):
    with pytest.raises(InvalidInputError):
        decodability(np.eye(3), tol=tol)


def test_cupy_parity():
    pytest.importorskip("cupy")
    from factmlp.xp import cupy_available

    if not cupy_available():
        pytest.skip("no CUDA device")
    v = _points(11, 200, 6)
    a = decodability(v, backend="numpy")
    b = decodability(v, backend="cupy")
    np.testing.assert_array_equal(a.vertex, b.vertex)
    np.testing.assert_allclose(a.rho_per_value, b.rho_per_value, rtol=1e-9)
