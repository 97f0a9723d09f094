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


def interpreted(*args, **kwargs):
    """``wolfe_gram`` with every kernel swapped for its interpreted ``py_func`` (restored afterwards)."""
    saved = {name: getattr(_minnorm, name) for name in _KERNELS}
    try:
        for name, fn in saved.items():
            setattr(_minnorm, name, fn.py_func)
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


def _assert_good(p, result):
    """Converged, or stopped at the floating-point limit: the KKT gap ``||x||^2 - min_a <p_a, x>`` is tiny.

    The gap test is relative (``rel_tol = 1e-13``) while ``lam^T G lam`` carries an absolute rounding error of
    order ``k u max|G|``, so near the origin (``||x||^2`` below ~1e-2 for unit points) the solver may stop
    unconverged; the gap, evaluated here in R^d, must still be at rounding level (unit points: ``|G| <= 1``).
    """
    supp, lam, conv = result
    x = lam @ p[supp]
    xx = float(x @ x)
    assert abs(lam.sum() - 1.0) < 1e-12 and np.all(lam > 0)
    assert conv or xx - float(np.min(p @ x)) <= 1e-12, (conv, xx)


def _assert_same(a, b):
    (sa, la, ca), (sb, lb, cb) = a, b
    assert sa.dtype == sb.dtype == np.int64
    np.testing.assert_array_equal(sa, sb)
    np.testing.assert_allclose(la, lb, rtol=0, atol=1e-12)
    assert ca == cb


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
    _assert_same(fast, interpreted(g))
    _assert_good(p, fast)


@compiled
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 50), d=st.integers(2, 20))
def test_compiled_matches_interpreted_warm_start(seed, k, d):
    # the warm start decodability uses: the solution on a subset of the points, then all of them
    rng = np.random.default_rng(seed)
    p = _points(seed, k, d, "generic")
    g = p @ p.T
    sub = np.sort(rng.choice(k, size=int(rng.integers(1, k + 1)), replace=False))
    s0, lam0, c0 = wolfe_gram(g[np.ix_(sub, sub)])
    fast = wolfe_gram(g, sub[s0], lam0)
    _assert_same(fast, interpreted(g, sub[s0], lam0))
    _assert_good(p, fast)
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
    _assert_same(wolfe_gram(g, start, weights), interpreted(g, start, weights))


@compiled
def test_single_point_and_origin_in_hull():
    g1 = np.array([[4.0]])
    _assert_same(wolfe_gram(g1), interpreted(g1))
    supp, lam, conv = wolfe_gram(g1)
    assert supp.tolist() == [0] and lam.tolist() == [1.0] and conv
    p = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])  # the origin is on the hull's edge
    g = p @ p.T
    _assert_same(wolfe_gram(g), interpreted(g))
    assert wolfe_gram(g)[2]


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
