"""The numba-compiled Wolfe solver agrees with the same source run interpreted (``.py_func``).

Parity tests skip when numba is not installed or ``FACTMLP_NO_JIT=1``; the
subprocess test checks that the environment variable selects the pure path.
"""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from factmlp import _jit, _minnorm
from factmlp._minnorm import wolfe_gram

compiled = pytest.mark.skipif(not _jit.ENABLED, reason="numba not installed or FACTMLP_NO_JIT=1: nothing compiled")

_KERNELS = [name for name in dir(_minnorm) if hasattr(getattr(_minnorm, name), "py_func")]


def interpreted(*args, lapack: bool = False, **kwargs):
    """``wolfe_gram`` with every kernel swapped for its interpreted ``py_func`` (restored afterwards).

    By default the triangular solves run in the loop version too, so this is the compiled source executed by
    the interpreter; ``lapack=True`` is the interpreted path as it runs without numba (``dtrtrs``).
    """
    swap = {name: getattr(_minnorm, name).py_func for name in _KERNELS}
    if not lapack:
        swap["_tri_solve"] = _minnorm._tri_solve_loops
    saved = {name: getattr(_minnorm, name) for name in swap}
    try:
        for name, fn in swap.items():
            setattr(_minnorm, name, fn)
        assert not hasattr(_minnorm._wolfe, "py_func")
        return _minnorm.wolfe_gram(*args, **kwargs)
    finally:
        for name, fn in saved.items():
            setattr(_minnorm, name, fn)


def _points(seed: int, k: int, d: int, kind: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "generic":  # offset: the origin is usually outside the hull
        p = rng.standard_normal((k, d)) + rng.standard_normal(d) * 2.0
    elif kind == "duplicates":  # every point twice (and the rest): ties in the Frank-Wolfe vertex
        half = rng.standard_normal(((k + 1) // 2, d)) + rng.standard_normal(d) * 2.0
        p = np.concatenate([half, half])[:k]
    else:  # "flat": k points on a 2-dimensional affine plane in R^d, far more than 3 when k is large
        base = rng.standard_normal((2, d))
        p = rng.standard_normal((k, 2)) @ base + rng.standard_normal(d) * 2.0
    return p / np.linalg.norm(p, axis=1)[:, None]


def _gap(p, result) -> float:
    """KKT gap ``||x||^2 - min_a <p_a, x>`` of ``x = sum lambda_a p_a``, evaluated in R^d (>= 0 up to rounding)."""
    supp, lam, _ = result
    x = lam @ p[supp]
    return max(float(x @ x - np.min(p @ x)), 0.0)


def _assert_good(p, result):
    """Weights on the simplex; converged, or stopped at the floating-point limit with a tiny gap.

    The gap test is relative (``rel_tol = 1e-13``) while ``lam^T G lam`` carries an absolute rounding error of
    order ``k u max|G|``, so near the origin (``||x||^2`` below ~1e-2 for unit points) the solver may stop
    unconverged; the gap must still be at rounding level (unit points: ``|G| <= 1``).
    """
    supp, lam, conv = result
    assert abs(lam.sum() - 1.0) < 1e-12 and np.all(lam > 0)
    assert np.all(np.diff(supp) > 0)
    assert conv or _gap(p, result) <= 1e-12, conv


def _assert_same(p, a, b, exact: bool):
    """Both good, and the same answer: ``exact``, the same support, weights within 1e-12, same flag; else the point.

    The compiled kernels and their source run by the interpreter agree to rounding (``exact``).  The LAPACK
    triangular solves of the interpreted path round differently from the loops; with ties (duplicate points) or
    near the rounding limit that can pick another, equivalent support.  Then only the points are compared: the
    nearest point ``x*`` of the hull has ``||x - x*||^2 <= gap(x)`` for every ``x`` in it, so
    ``||x_a - x_b|| <= sqrt(gap_a) + sqrt(gap_b)``.
    """
    _assert_good(p, a)
    _assert_good(p, b)
    (sa, la, ca), (sb, lb, cb) = a, b
    assert sa.dtype == sb.dtype == np.int64
    if exact:
        np.testing.assert_array_equal(sa, sb)
        np.testing.assert_allclose(la, lb, rtol=0, atol=1e-12)
        assert ca == cb
    dist = float(np.linalg.norm(la @ p[sa] - lb @ p[sb]))
    assert dist <= np.sqrt(_gap(p, a)) + np.sqrt(_gap(p, b)) + 1e-12


@pytest.mark.parametrize("trans", [False, True])
def test_loop_triangular_solve_matches_lapack(trans):
    # the one primitive with two implementations: dtrtrs (interpreted path), loops (compiled kernels)
    rng = np.random.default_rng(7)
    cap, s = 12, 9
    L = np.tril(rng.standard_normal((cap, cap))) + 4.0 * np.eye(cap)
    b = rng.standard_normal(s)
    want = np.linalg.solve(L[:s, :s].T if trans else L[:s, :s], b)
    for fn in (_minnorm._tri_solve, _minnorm._tri_solve_loops):
        np.testing.assert_allclose(fn(L, s, b, trans), want, rtol=1e-13, atol=1e-13)
    assert _minnorm._tri_solve(L, 0, np.zeros(0), trans).shape == (0,)


@compiled
def test_kernels_are_compiled():
    assert {"_wolfe", "_chol_add", "_chol_remove", "_chol_minimizer", "_affine_minimizer"} <= set(_KERNELS)


@compiled
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 60),
    d=st.integers(1, 30),
    kind=st.sampled_from(["generic", "duplicates", "flat"]),
)
def test_compiled_matches_interpreted(seed, k, d, kind):
    p = _points(seed, k, d, kind)
    g = p @ p.T
    fast = wolfe_gram(g)
    _assert_same(p, fast, interpreted(g), exact=True)
    _assert_same(p, fast, interpreted(g, lapack=True), exact=False)


@compiled
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 50), d=st.integers(2, 20))
def test_compiled_matches_interpreted_warm_start(seed, k, d):
    # the warm start decodability uses: the solution on a subset of the points, then all of them
    rng = np.random.default_rng(seed)
    p = _points(seed, k, d, "generic")
    g = p @ p.T
    sub = np.sort(rng.choice(k, size=int(rng.integers(1, k + 1)), replace=False))
    s0, lam0, _ = wolfe_gram(g[np.ix_(sub, sub)])
    fast = wolfe_gram(g, sub[s0], lam0)
    _assert_same(p, fast, interpreted(g, sub[s0], lam0), exact=True)
    _assert_same(p, fast, interpreted(g, sub[s0], lam0, lapack=True), exact=False)
    # restarting from the solution: the same support
    np.testing.assert_array_equal(wolfe_gram(g, fast[0], fast[1])[0], fast[0])


@compiled
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 50), d=st.integers(2, 20))
def test_compiled_matches_interpreted_arbitrary_weights(seed, k, d):
    # at most d + 1 generic points: an affinely independent start, the factor is used (no LAPACK-dependent
    # bordered solve); some weights zero (dropped).  Convergence is not asserted: a start whose weights are not
    # the affine minimiser of its support stops when the Frank-Wolfe vertex is already in it (as before).
    rng = np.random.default_rng(seed)
    p = _points(seed, k, d, "generic")
    g = p @ p.T
    start = rng.choice(k, size=int(rng.integers(1, min(k, d + 1) + 1)), replace=False)
    weights = rng.random(start.size) * (rng.random(start.size) < 0.8)
    a, b = wolfe_gram(g, start, weights), interpreted(g, start, weights)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1], rtol=0, atol=1e-12)
    assert a[2] == b[2]


@compiled
def test_single_point_and_origin_in_hull():
    g1 = np.array([[4.0]])
    for res in (wolfe_gram(g1), interpreted(g1)):
        assert res[0].tolist() == [0] and res[1].tolist() == [1.0] and res[2]
    p = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])  # the origin is on the hull's edge
    g = p @ p.T
    _assert_same(p, wolfe_gram(g), interpreted(g), exact=True)
    _assert_same(p, wolfe_gram(g), interpreted(g, lapack=True), exact=False)


def _probe(env_value: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "FACTMLP_NO_JIT"}
    if env_value is not None:
        env["FACTMLP_NO_JIT"] = env_value
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    code = (
        "import json, numpy as np\n"
        "from factmlp import _jit, _minnorm\n"
        "s, lam, c = _minnorm.wolfe_gram(np.array([[2.0, 0.5], [0.5, 1.0]]))\n"
        "print(json.dumps({'enabled': _jit.ENABLED, 'compiled': hasattr(_minnorm._wolfe, 'py_func'),"
        " 'support': s.tolist(), 'converged': c}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_no_jit_env_selects_the_pure_path():
    off = _probe("1")
    assert off["enabled"] is False and off["compiled"] is False
    assert off["support"] == [0, 1] and off["converged"]  # x* = 0.25 p_0 + 0.75 p_1 is interior
    on = _probe(None)
    has_numba = importlib.util.find_spec("numba") is not None
    assert on["enabled"] is has_numba and on["compiled"] is has_numba
    assert on["support"] == off["support"] and on["converged"]


def test_bad_input_is_rejected_before_the_kernel():
    # compiled code does not bounds-check: the wrapper must refuse out-of-range warm starts
    from factmlp.errors import EmptyInputError, MappingRangeError, ShapeError

    g = np.eye(3)
    with pytest.raises(MappingRangeError) as err:
        wolfe_gram(g, np.array([0, 3, -1]), np.ones(3))
    assert err.value.indices == [1, 2]
    with pytest.raises(ShapeError):
        wolfe_gram(g, np.array([0, 1]), np.ones(3))
    with pytest.raises(ShapeError):
        wolfe_gram(np.ones((2, 3)))
    with pytest.raises(EmptyInputError):
        wolfe_gram(np.zeros((0, 0)))
