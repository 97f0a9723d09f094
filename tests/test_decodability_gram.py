"""The Gram-trick lower bounds of the rho certificate are rigorous (exact rational oracle).

``_gram_lower_scores`` replaces explicit differences for every pair whose
bound clears the solver's value; a bound above the true score there would let
the certificate call a non-vertex a vertex.  The oracle compares each bound
with the true ``<v_j - v_l, u> / ||v_j - v_l||`` in exact rational arithmetic
on inputs built for cancellation (near-duplicate clusters, mixed scales), and
the mutant without allowances must be caught on the same inputs.
"""

from __future__ import annotations

import importlib
from fractions import Fraction

import numpy as np
import pytest

from factmlp.decodability import unit_scale

dec = importlib.import_module("factmlp.decodability")  # the module (the package exports a function of that name)


def _inputs(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((6, 8))
    clusters = np.repeat(centres, 8, axis=0) + 1e-9 * rng.standard_normal((48, 8))
    scales = rng.standard_normal((40, 6)) * np.logspace(-8, 8, 40)[:, None]
    near_line = np.outer(np.linspace(-1, 1, 30), rng.standard_normal(5)) + 1e-12 * rng.standard_normal((30, 5))
    return [clusters, scales, near_line, rng.standard_normal((50, 7))]


def _violations(v: np.ndarray, seed: int) -> tuple[int, int]:
    """(bounds above the true score, pairs checked) for random directions u."""
    v, _ = unit_scale(v)
    rng = np.random.default_rng(seed)
    n, _d = v.shape
    js = np.arange(n)
    u = rng.standard_normal((n, v.shape[1]))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    sq = np.sum(v * v, axis=1)
    s = dec._gram_lower_scores(np, v, sq, js, u)
    bad = checked = 0
    fv = [[Fraction(x) for x in row] for row in v.tolist()]
    for b in range(n):
        fu = [Fraction(x) for x in u[b].tolist()]
        for lc in range(n):
            diff = [p - q for p, q in zip(fv[b], fv[lc], strict=True)]
            d2 = sum(x * x for x in diff)
            if d2 == 0:
                continue
            checked += 1
            lo = s[b, lc]
            if lo == -np.inf or np.isnan(lo):
                continue
            if lo == np.inf:  # a true score is finite
                bad += 1
                continue
            num = sum(x * y for x, y in zip(diff, fu, strict=True))
            fl = Fraction(lo)
            # is lo <= num / sqrt(d2) ?
            if num >= 0:
                ok = fl <= 0 or fl * fl * d2 <= num * num
            else:
                ok = fl < 0 and fl * fl * d2 >= num * num
            bad += not ok
    return bad, checked


@pytest.mark.parametrize("seed", [0, 1])
def test_gram_lower_bounds_never_exceed_true_scores(seed):
    for v in _inputs(seed):
        bad, checked = _violations(v, seed)
        assert checked > 0
        assert bad == 0, f"{bad} of {checked} Gram bounds above the true score"


def test_gram_bounds_are_tight_for_separated_values():
    """Away from cancellation the bound is within about 1e-12 of the plain score (not vacuous)."""
    rng = np.random.default_rng(3)
    v, _ = unit_scale(rng.standard_normal((200, 16)))
    u = rng.standard_normal((200, 16))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    js = np.arange(200)
    s = dec._gram_lower_scores(np, v, np.sum(v * v, axis=1), js, u)
    plain = dec._approx_scores(np, v, np.sum(v * v, axis=1), js, u)
    off = ~np.eye(200, dtype=bool)
    assert np.all(s[off] <= plain[off])
    assert np.max(plain[off] - s[off]) < 1e-12


def test_mutant_without_allowances_is_caught(monkeypatch):
    """Dropping the rounding allowances (gamma and the ulp factors) gives bounds above the truth."""
    monkeypatch.setattr(dec, "_gamma", lambda n: 0.0)
    monkeypatch.setattr(dec, "_EPS", 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # the mutant may divide by a zero denominator
        total = sum(_violations(v, 0)[0] for v in _inputs(0))
    assert total > 0


def test_certified_scores_explicit_below_threshold():
    """Below ``thr`` every score is the explicit-difference one; the certificate matches explicit differences."""
    rng = np.random.default_rng(4)
    v, _ = unit_scale(np.repeat(rng.standard_normal((10, 6)), 5, axis=0) + 1e-10 * rng.standard_normal((50, 6)))
    js = np.arange(50)
    u = rng.standard_normal((50, 6))
    thr = np.full(50, 0.3)
    q = dec._certified_scores(np, v, v, np.sum(v * v, axis=1), js, u, thr)
    rb, rn = np.nonzero(q < thr[:, None])
    explicit = dec._explicit_pair_scores(v, js[rb], rn, u[rb])
    assert np.array_equal(q[rb, rn], explicit)
    assert rb.size > 0
