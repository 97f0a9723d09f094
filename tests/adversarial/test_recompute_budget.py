"""The exact recomputation has bounded cost and a sound verdict (issue 12, item 4).

Before: silu at pre-activation -1e20 raised OverflowError, gelu at -1e5 /
-1e6 hung or raised MemoryError, and a silu MLP with gate rows around -6e6
.. -4e7 did not finish in 300 s: the enclosures of act(a) were expanded to
integers over a common exponent of about -1.44e20 bits.  Now the tails are
bounded analytically, every enclosure is rounded outward to a bounded number
of bits, and what cannot be decided within the caps is "undecided".
"""

from __future__ import annotations

import importlib
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from factmlp import FactSet, GatedMLP, verify_storage
from factmlp._exact import MAX_BITS, _tail_limits, activation_enclosure, dyadic

verify_mod = importlib.import_module("factmlp.verify")
exact_mod = importlib.import_module("factmlp._exact")

pytestmark = pytest.mark.timeout(120)


def _one_unit(act, gate, up=1.0, down=1.0, key=1.0, target=0):
    mlp = GatedMLP(np.array([[gate]]), np.array([[up]]), np.array([[down]]), act)
    return mlp, FactSet(np.array([[key]]), np.array([[1.0], [-1.0]]), np.array([target]))


@pytest.mark.parametrize(
    "act,gate", [("silu", -1e20), ("gelu", -1e5), ("gelu", -1e6), ("silu", -1e300), ("gelu", -1e300)]
)
def test_huge_negative_preactivations_are_decided_not_crashing(act, gate):
    """True margin 2 act(gate) < 0 (a negative tail, far below 2**-1074): never stored."""
    for target in (0, 1):  # margin 2 act(a) < 0, and -2 act(a) > 0 (tiny, proven only if resolvable)
        rep = verify_storage(*_one_unit(act, gate, target=target))
        assert rep.total == 1
        if target == 0:
            assert rep.stored == 0
        assert np.isfinite(rep.margins).all()


@pytest.mark.parametrize("act,gate", [("silu", 1e20), ("gelu", 1e6)])
def test_huge_positive_preactivations_are_certified(act, gate):
    rep = verify_storage(*_one_unit(act, gate))
    assert rep.certified  # act(a) = a (1 - tiny): margin about 2a > 0


def test_the_hanging_silu_case_finishes():
    rng = np.random.default_rng(0)
    h = 8
    gate = -rng.uniform(6e6, 4e7, size=(h, 2))
    mlp = GatedMLP(gate, rng.normal(size=(h, 2)), rng.normal(size=(2, h)), "silu")
    fs = FactSet(np.array([[1.0, 1.0], [0.5, 0.25]]), np.array([[1.0, 0], [-1.0, 0]]), np.array([0, 1]))
    rep = verify_storage(mlp, fs)
    # every silu(a) here is below 2**-10**7 in magnitude: the sign of the margin is beyond any finite budget
    assert rep.stored == 0 and sorted(rep.undecided.tolist()) == [0, 1]


@pytest.mark.parametrize("act", ["silu", "gelu"])
@pytest.mark.parametrize("prec", [128, 256, 1024])
def test_enclosures_contain_the_truth_and_stay_small(act, prec):
    _check_enclosures(act, prec)


def test_mutant_tail_without_its_error_term_is_caught(monkeypatch):
    """The known-bad variant act(a) = a (or 0) in the tails, with no error term, fails the containment check."""
    monkeypatch.setattr(exact_mod, "_tail_enclosure", lambda name, m, e: ((max(m, 0), e, None), (max(m, 0), e, None)))
    with pytest.raises(AssertionError):
        _check_enclosures("silu", 256)


def _check_enclosures(act, prec):
    t_pos, t_neg = _tail_limits(act, prec)
    pts = [
        0.0,
        5e-324,
        -5e-324,
        1e-300,
        -3.5,
        2.0,
        t_pos - 0.5,
        float(t_pos),
        t_pos + 0.25,
        1e3,
        -float(t_neg),
        -t_neg + 0.5,
        -5000.0,
        -1e20,
        1e20,
        -1e300,
        1e300,
        2.0**-1000,
    ]
    a = np.array(pts)
    a_int, e_a = dyadic(a)
    mid, rad, e = activation_enclosure(act, a_int, e_a, prec)
    assert max(abs(int(q)).bit_length() for q in np.concatenate([mid, rad])) < MAX_BITS
    assert e > -20000  # bounded exponent: the Fractions built on it stay small
    f = {"silu": lambda z: z / (1 + mpmath.exp(-z)), "gelu": lambda z: z * mpmath.erfc(-z / mpmath.sqrt(2)) / 2}[act]
    with mpmath.workprec(3000):
        # beyond 1e4 mpmath cannot evaluate erfc; there the truth is x - delta or -delta, 0 < delta < 2**-14000
        trues = [f(mpmath.mpf(x)) if abs(x) <= 1e4 else mpmath.mpf(max(x, 0.0)) for x in pts]
        negligible = max(abs(t) for t in trues) * mpmath.ldexp(1, -(2 * prec + 60))
        for x, true, m, r in zip(pts, trues, mid, rad, strict=True):
            c, w = mpmath.ldexp(int(m), e), mpmath.ldexp(int(r), e)
            if abs(x) <= 1e4:
                assert c - w <= true <= c + w, x
            else:
                assert c - w <= true - mpmath.ldexp(1, -14000) and true <= c + w, x
            # tight: prec bits relative to |x| + |act(x)| (gelu's padding), unless negligible against the largest
            assert w <= (abs(true) + abs(mpmath.mpf(x))) * mpmath.ldexp(1, -(prec - 30)) + negligible, x


def test_tail_bounds_are_as_tight_as_mpmath_at_the_threshold():
    """Just past the switch point the analytic enclosure is no wider (relative) than the mpmath one before it."""
    for act in ("silu", "gelu"):
        for prec in (256, 1024):
            t_pos, _ = _tail_limits(act, prec)
            rel = []
            for x in (t_pos - 1.0, float(t_pos)):
                a_int, e_a = dyadic(np.array([x]))
                mid, rad, e = activation_enclosure(act, a_int, e_a, prec)
                rel.append(Fraction(int(rad[0])) * Fraction(2) ** e / Fraction(x))
            assert 0 < rel[1] <= rel[0], (act, prec, rel)


def test_digit_cap_gives_undecided_never_stored(monkeypatch):
    mlp, fs = _one_unit("silu", 1.0, down=1.0)
    base = verify_storage(mlp, fs)
    assert base.certified  # margin 2 silu(1) > 0, decided in float64
    tie = GatedMLP(np.array([[1.0], [1.0]]), np.array([[1.0], [1.0]]), np.array([[1.0, -1.0]]), "silu")
    rep = verify_storage(tie, fs)
    assert rep.stored == 0 and rep.undecided.tolist() == [0]  # an exact tie under silu: undecided
    # a near tie decided only by recomputation; with a 10-bit digit cap it must become undecided
    near = GatedMLP(np.array([[1.0], [1.0 + 2.0**-52]]), np.array([[1.0], [1.0]]), np.array([[-1.0, 1.0]]), "silu")
    ok = verify_storage(near, fs)
    assert ok.certified and ok.recomputed.tolist() == [0]
    monkeypatch.setattr(exact_mod, "MAX_BITS", 10)
    capped = verify_storage(near, fs)
    assert capped.stored == 0 and capped.undecided.tolist() == [0]


def test_time_budget_gives_undecided_never_stored(monkeypatch):
    near = GatedMLP(np.array([[1.0], [1.0 + 2.0**-52]]), np.array([[1.0], [1.0]]), np.array([[-1.0, 1.0]]), "gelu")
    fs = FactSet(np.array([[1.0]]), np.array([[1.0], [-1.0]]), np.array([0]))
    assert verify_storage(near, fs).certified
    monkeypatch.setattr(verify_mod, "_SECONDS_PER_FACT", -1.0)  # the deadline has passed before it starts
    rep = verify_storage(near, fs)
    assert rep.stored == 0 and rep.undecided.tolist() == [0]


def test_exact_activations_keep_bounded_integers_at_extreme_exponents():
    """identity / relu stay exact (no rounding) for keys and weights at the ends of the float range."""
    keys = np.array([[2.0**-1074, 1.7976931348623157e308]])
    gate = np.array([[2.0**1000, 2.0**-1074], [1.0, -(2.0**-1074)]])
    mlp = GatedMLP(gate, np.array([[1.0, 2.0**-1074]] * 2), np.array([[1.0, -1.0], [0.0, 0.0]]), "relu")
    fs = FactSet(keys, np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([0]))
    rep = verify_storage(mlp, fs)
    a = [
        Fraction(2) ** 1000 * Fraction(2.0**-1074) + Fraction(2.0**-1074) * Fraction(1.7976931348623157e308),
        Fraction(2.0**-1074) - Fraction(2.0**-1074) * Fraction(1.7976931348623157e308),
    ]
    b = Fraction(2.0**-1074) + Fraction(2.0**-1074) * Fraction(1.7976931348623157e308)
    y0 = max(a[0], 0) * b - max(a[1], 0) * b
    assert rep.stored == int(2 * y0 > 0) and rep.undecided.size == 0
