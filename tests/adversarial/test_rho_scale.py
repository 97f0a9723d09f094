"""rho is scale-invariant, bit for bit, over 1e-300 .. 1e300 (issue 12, item 3).

``decodability`` scales ``V`` exactly by a power of two to max-abs in
``[1, 2)`` and every difference exactly by a power of two before squaring,
so no square underflows or overflows; input that cannot be scaled exactly is
refused with :class:`ValueRangeError`.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

from factmlp import decodability
from factmlp.errors import FactMLPError, ValueRangeError
from factmlp.feasibility import is_vertex_lp

dec = importlib.import_module("factmlp.decodability")  # the package attribute is the function

C8 = math.cos(math.pi / 8)  # rho of an end point of [-1, 1] next to (0, 1)
R2 = math.sqrt(0.5)


def _brackets(res, truth):
    for j, t in enumerate(truth):
        assert np.isfinite(res.lower[j]) and np.isfinite(res.upper[j]), j
        assert res.lower[j] <= t <= res.upper[j] * (1 + 1e-15), (j, res.lower[j], t, res.upper[j])


def _check_tiny_1d():
    res = decodability(np.array([[0.0], [1e-170], [-1e-170]]))
    assert not res.vertex[0] and res.rho_per_value[0] == 0.0 and res.rho == 0.0
    assert res.vertex[1] and res.vertex[2]
    _brackets(res, [0.0, 1.0, 1.0])


def test_tiny_1d_midpoint_is_not_a_vertex():
    """Was: rho(V) = 1, bracket [1, 1], value 0 a vertex (squared differences underflowed)."""
    _check_tiny_1d()


@pytest.mark.parametrize("scale", [1e-170, 1e-300, 1e-320, 1.0, 1e160, 1e300])
def test_2d_tiny_and_huge_brackets_are_finite_and_true(scale):
    """Was (1e-170): lower = inf, upper = nan, all vertices; 1e-300: LinAlgError."""
    v = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]) * scale
    res = decodability(v)
    assert res.vertex.tolist() == [False, True, True, True]
    _brackets(res, [0.0, C8, C8, R2])


def test_huge_cross_is_0_7071():
    """Was: rho = 0, bracket [0, 8.9e-16], no vertex."""
    res = decodability(np.array([[1.0, 0], [0, 1], [-1, 0], [0, -1]]) * 1e160)
    assert res.vertex.all() and res.rho == pytest.approx(R2, rel=1e-12)
    _brackets(res, [R2] * 4)


@pytest.mark.parametrize("k", [-996, -600, -170, -1, 1, 170, 600, 996])
def test_rho_is_bit_for_bit_scale_invariant(k):
    v = np.random.default_rng(3).standard_normal((24, 4))
    ref = decodability(v)
    assert 0 < ref.vertex.sum() < 24  # some values inside the hull, some vertices
    res = decodability(np.ldexp(v, k))
    assert res.rho == ref.rho
    for name in ("rho_per_value", "lower", "upper", "directions", "vertex", "duplicate_of"):
        assert np.array_equal(getattr(res, name), getattr(ref, name), equal_nan=True), name
    assert all(np.array_equal(a, b) for a, b in zip(res.support, ref.support, strict=True))


def test_subnormal_differences_are_not_duplicates():
    """Rows 1 and 2 differ by 2^-1074 after scaling: distinct, and the certificates stay finite."""
    v = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 5e-324], [-1.0, 0.0], [0.0, -1.0]])
    res = decodability(v)
    assert res.duplicate_of.tolist() == [-1] * 5
    assert np.all(np.isfinite(res.lower)) and np.all(np.isfinite(res.upper))
    assert not res.vertex[1]  # (0, 0) is inside conv{(1,0), (-1,0), (0,-1), (0, 2^-1074)}
    assert res.vertex[2] == is_vertex_lp(v, 2)


def test_exact_duplicates_at_extreme_scales():
    v = np.array([[1e-300], [1e-300], [0.0], [3e-300]])
    res = decodability(v)
    assert res.duplicate_of[:2].tolist() == [1, 0] and not res.vertex[0]


def test_unscalable_range_is_refused():
    """1e300 next to 1e-30: scaled to unit size the small entry is not a float64 number."""
    v = np.array([[1e300, 0.0], [0.0, 1e-30], [-1.0, -1.0]])
    with pytest.raises(ValueRangeError, match=r"rows \[1\]") as exc:
        decodability(v)
    assert exc.value.indices == [1] and isinstance(exc.value, FactMLPError)


def test_lp_check_is_scale_invariant():
    v = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]) * 1e-170
    assert [is_vertex_lp(v, j) for j in range(4)] == [False, True, True, True]


def test_mutant_without_rescaling_is_caught(monkeypatch):
    """The known-bad variant (no exact rescaling, plain norms) fails the tiny 1-D check."""
    monkeypatch.setattr(dec, "unit_scale", lambda v, name="values": (v, 0))
    monkeypatch.setattr(dec, "_unit_rows", lambda dv: dv / np.sqrt(np.einsum("ld,ld->l", dv, dv))[:, None])
    with np.errstate(all="ignore"), pytest.raises((AssertionError, FactMLPError, np.linalg.LinAlgError)):
        _check_tiny_1d()
