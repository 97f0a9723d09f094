"""Hypothesis fuzzer: ``verify_storage`` verdicts against independent margin oracles (issue 12, item 6).

Inputs are adversarial floats (subnormals, +-huge up to the float64 maximum,
``1 +- ulp``, exact ties and one-ulp near ties between values, cancellation
between mirrored hidden units nudged by one ulp) in float16 / float32 /
float64 weights, keys and values.

Oracles, written here without :mod:`factmlp._exact`:

* identity / relu: the exact rational margin (``fractions.Fraction``).  The
  verifier must be *exact* here: stored iff margin > 0, argmax_wrong iff
  margin < 0, nothing undecided;
* silu / gelu: a 3000-bit ``mpmath.iv`` enclosure of the margin (silu by
  interval ``exp``; gelu by mpmath ``erfc`` padded by ``2**-2900``; beyond
  ``|a| > 2**20`` the tail bounds ``|silu(-t)|, |gelu(-t)| < 2**-(2**20)``).
  The oracle is at least as tight as the verifier (1024 bits at most), so the
  test is strict: "stored" requires the oracle's *lower* end > 0 and
  "argmax wrong" its *upper* end < 0.  "Not stored" where the oracle proves
  a positive margin is allowed (conservative) and counted.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from mpmath import iv

from factmlp import FactSet, GatedMLP, verify_storage

_BASE = [
    0.0,
    2.0**-1074,
    3 * 2.0**-1074,
    2.0**-1022,
    2.0**-537,
    1e-300,
    0.5,
    1.0,
    1 + 2.0**-52,
    1 - 2.0**-53,
    2.0,
    3.0,
    2.0**500,
    2.0**1000,
    1.7976931348623157e308,
]
SPECIAL = _BASE + [-x for x in _BASE if x]
ORACLE_PREC = 3000
_TAIL = 2**20

_SETTINGS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _elem():
    return st.one_of(
        st.sampled_from(SPECIAL),
        st.floats(allow_nan=False, allow_infinity=False),
        st.floats(width=32, allow_nan=False, allow_infinity=False),
        st.integers(-3, 3).map(float),
    )


def _matrix(draw, rows, cols, dtype):
    a = np.array(draw(st.lists(_elem(), min_size=rows * cols, max_size=rows * cols)), dtype=np.float64)
    with np.errstate(over="ignore"):
        a = a.reshape(rows, cols).astype(dtype)
    a[~np.isfinite(a)] = 1.0  # beyond float16 / float32 range
    return a


@st.composite
def cases(draw, acts):
    act = draw(st.sampled_from(acts))
    d, h, n, f = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(2, 3)), draw(st.integers(1, 3)))
    wdt = draw(st.sampled_from(["float16", "float32", "float64"]))
    kdt = draw(st.sampled_from(["float16", "float32", "float64"]))
    gate, up, down = _matrix(draw, h, d, wdt), _matrix(draw, h, d, wdt), _matrix(draw, d, h, wdt)
    if draw(st.booleans()):  # cancellation: mirrored units, one down weight nudged by an ulp
        nudged = -down.copy()
        k = draw(st.integers(0, nudged.size - 1))
        with np.errstate(over="ignore"):
            nudged.flat[k] = np.nextafter(nudged.flat[k], np.inf if draw(st.booleans()) else -np.inf)
        nudged[~np.isfinite(nudged)] = 1.0
        gate, up, down = np.vstack([gate, gate]), np.vstack([up, up]), np.hstack([down, nudged])
    keys, values = _matrix(draw, f, d, kdt), _matrix(draw, n, d, kdt)
    tie = draw(st.sampled_from(["none", "exact", "ulp"]))
    if tie == "exact":  # an exact tie: two equal values
        values[1] = values[0]
    elif tie == "ulp":  # a near tie: the values differ by one ulp in one entry
        values[1] = values[0]
        k = draw(st.integers(0, d - 1))
        with np.errstate(over="ignore"):
            values[1, k] = np.nextafter(values[0, k], np.inf)
        values[~np.isfinite(values)] = 1.0
    mapping = np.array(draw(st.lists(st.integers(0, n - 1), min_size=f, max_size=f)))
    return GatedMLP(gate, up, down, act), FactSet(keys, values, mapping)


# --------------------------------------------------------------------------- oracles
def _fr(a) -> list[list[Fraction]]:
    return [[Fraction(float(x)) for x in row] for row in np.asarray(a, dtype=np.float64)]


def _pre(mlp, x):
    g, u = _fr(mlp.gate_proj), _fr(mlp.up_proj)
    a = [sum((gi * xi for gi, xi in zip(row, x, strict=True)), Fraction(0)) for row in g]
    b = [sum((ui * xi for ui, xi in zip(row, x, strict=True)), Fraction(0)) for row in u]
    return a, b


def exact_margins(mlp, fs) -> list[Fraction]:
    """Exact margins for identity / relu."""
    dn, v = _fr(mlp.down_proj), _fr(fs.values)
    out = []
    for x, t in zip(_fr(fs.keys), fs.mapping, strict=True):
        a, b = _pre(mlp, x)
        s = a if mlp.activation == "identity" else [max(q, Fraction(0)) for q in a]
        y = [sum((dl[k] * s[k] * b[k] for k in range(len(a))), Fraction(0)) for dl in dn]
        z = [sum((yl * vl for yl, vl in zip(y, vj, strict=True)), Fraction(0)) for vj in v]
        out.append(min(z[int(t)] - z[j] for j in range(len(v)) if j != int(t)))
    return out


def _iv(q: Fraction):
    return iv.mpf(q.numerator) / iv.mpf(q.denominator)  # outward rounded


def _act_interval(name: str, q: Fraction):
    if q > _TAIL:
        x = _iv(q)
        return iv.mpf([x.a - mpmath.ldexp(1, -_TAIL), x.b])
    if q < -_TAIL:
        return iv.mpf([-mpmath.ldexp(1, -_TAIL), 0])
    x = _iv(q)
    if name == "silu":
        return x / (1 + iv.exp(-x))
    with mpmath.workprec(ORACLE_PREC):
        xm = mpmath.mpf(q.numerator) / q.denominator
        g = xm * mpmath.erfc(-xm / mpmath.sqrt(2)) / 2
        r = (abs(xm) + abs(g)) * mpmath.ldexp(1, -(ORACLE_PREC - 100))
    return iv.mpf([g - r, g + r])


def interval_margins(mlp, fs) -> list[tuple]:
    """3000-bit enclosures ``(lo, hi)`` of the margins for silu / gelu."""
    old = iv.prec
    iv.prec = ORACLE_PREC
    try:
        dn, v = _fr(mlp.down_proj), _fr(fs.values)
        out = []
        for x, t in zip(_fr(fs.keys), fs.mapping, strict=True):
            a, b = _pre(mlp, x)
            p = [_act_interval(mlp.activation, ak) * _iv(bk) for ak, bk in zip(a, b, strict=True)]
            y = [sum((_iv(dl[k]) * p[k] for k in range(len(p))), iv.mpf(0)) for dl in dn]
            t = int(t)
            mus = [
                sum((yl * _iv(vt - vj) for yl, vt, vj in zip(y, v[t], v[j], strict=True)), iv.mpf(0))
                for j in range(len(v))
                if j != t
            ]
            out.append((min(m.a for m in mus), min(m.b for m in mus)))
        return out
    finally:
        iv.prec = old


# --------------------------------------------------------------------------- properties
@settings(max_examples=250, **_SETTINGS)
@given(cases(["identity", "relu"]))
def test_exact_activations_agree_with_rational_margins(case):
    mlp, fs = case
    rep = verify_storage(mlp, fs)
    m = exact_margins(mlp, fs)
    stored = np.zeros(fs.n_facts, dtype=bool)
    stored[np.setdiff1d(np.arange(fs.n_facts), rep.failing)] = True
    assert stored.tolist() == [q > 0 for q in m], (m, rep)
    assert rep.argmax_wrong.tolist() == [i for i, q in enumerate(m) if q < 0]
    assert rep.undecided.size == 0
    event("recomputed" if rep.recomputed.size else "float64 only")


@settings(max_examples=90, **_SETTINGS)
@given(cases(["silu", "gelu"]))
def test_transcendental_activations_never_certify_wrongly(case):
    mlp, fs = case
    rep = verify_storage(mlp, fs)
    enc = interval_margins(mlp, fs)
    failing = set(rep.failing.tolist())
    for i, (lo, hi) in enumerate(enc):
        if i not in failing:
            assert lo > 0, (i, lo, hi, rep)  # stored: the oracle proves a positive margin
        elif lo > 0:
            event("conservative: oracle proves stored, verifier did not")
    for i in rep.argmax_wrong.tolist():
        assert enc[i][1] < 0, (i, enc[i], rep)
    event(f"{mlp.activation}: stored {rep.stored}/{rep.total}, undecided {rep.undecided.size}")


def test_the_oracles_see_a_wrong_verdict():
    """Mutant check: a verdict flipped by hand fails the comparison the properties make."""
    mlp = GatedMLP(np.array([[1.0]]), np.array([[1.0]]), np.array([[1.0]]), "silu")
    fs = FactSet(np.array([[1.0]]), np.array([[1.0], [-1.0]]), np.array([1]))  # margin -2 silu(1) < 0
    ((lo, hi),) = interval_margins(mlp, fs)
    assert hi < 0 and verify_storage(mlp, fs).stored == 0  # "stored" would fail `lo > 0`
    (q,) = exact_margins(GatedMLP(mlp.gate_proj, mlp.up_proj, mlp.down_proj, "identity"), fs)
    assert q == -2
    with pytest.raises(AssertionError):
        assert lo > 0
