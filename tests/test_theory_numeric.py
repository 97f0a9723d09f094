"""Numeric twins equal their SymPy expressions; JL confirmed by Monte Carlo with a binomial bound."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import beta

from factmlp.errors import InvalidInputError
from theory import counting, jl, param_counts
from theory.symbols import F, N, b, d, delta, eps, h, m, n, rho


@given(st.integers(1, 5000), st.integers(2, 5000), st.sampled_from([0.5, 1.0, 2.0, 3.3]))
def test_counting_twins(f, nv, bb):
    assert math.isclose(counting.map_bits(f, nv), float(counting.MAP_BITS.subs({F: f, N: nv})), rel_tol=1e-12)
    assert math.isclose(
        counting.param_lower_bound(f, nv, bb),
        float(counting.PARAM_LOWER_BOUND.subs({F: f, N: nv, b: sp.nsimplify(bb)})),
        rel_tol=1e-12,
    )
    lo, hi = counting.permutation_bits_bounds(f)
    exact = counting.permutation_bits(f)
    assert lo <= exact * (1 + 1e-12) and exact <= hi * (1 + 1e-12)
    assert math.isclose(exact, math.lgamma(f + 1) / math.log(2), rel_tol=1e-9, abs_tol=1e-12)


@given(
    st.sampled_from(["1/10", "1/4", "1/2", "9/10"]), st.integers(2, 10**6), st.sampled_from(["1/100", "1/10", "1/2"])
)
def test_jl_twins(e, k, dl):
    e, dl = sp.Rational(e), sp.Rational(dl)
    assert jl.m_vec(float(e), k, float(dl)) == int(sp.ceiling(jl.M_VEC.subs({eps: e, n: k, delta: dl})))
    assert jl.m_jl(float(e), k, float(dl)) == int(sp.ceiling(jl.M_JL.subs({eps: e, n: k, delta: dl})))
    assert jl.m_decoder(float(e), k, float(dl)) == int(sp.ceiling(jl.M_DECODER.subs({rho: e, N: k, delta: dl})))


def test_decoder_dimension_exceeds_d_at_practical_sizes():
    md = jl.m_decoder(0.5, 16384, 0.01)
    assert md > 128
    assert param_counts.encdec_code_dim(d=128, rho=0.5, N=16384, delta=0.01) == 128


@given(st.integers(1, 20000), st.integers(2, 256), st.integers(1, 64), st.integers(1, 512))
def test_param_count_twins(f, dd, mm, hh):
    sizes = {F: f, d: dd, m: mm, h: hh}
    for method in param_counts.METHODS:
        for form in param_counts.FORMS:
            got = param_counts.param_count(method, form, F=f, d=dd, m=mm, h=hh)
            want = param_counts.PARAMS[(method, form)].subs(sizes)
            assert got == int(want)
        assert param_counts.hidden_width(method, F=f, d=dd, m=mm, h=hh) == int(param_counts.WIDTH[method].subs(sizes))
    folded = param_counts.param_count("encdec", "folded", F=f, d=dd, m=mm)
    assert 3 * mm * f <= folded <= 3 * mm * (f + dd)


def test_param_count_defaults_and_errors():
    assert param_counts.param_count("gd", d=32, h=19) == 1824
    assert param_counts.hidden_width("ntk", F=512, d=32) == 512
    assert param_counts.hidden_width("hebbian_raw", d=32) == 128
    # factored encdec: d r + d m r + m d
    assert param_counts.param_count("encdec", "factored", F=100, d=10, m=4) == 10 * 10 + 10 * 40 + 40
    with pytest.raises(InvalidInputError):
        param_counts.param_count("nope", d=3, h=1)
    with pytest.raises(InvalidInputError):
        param_counts.param_count("gd", d=3)  # missing h
    with pytest.raises(InvalidInputError):
        param_counts.param_count("gd", d=0, h=1)
    with pytest.raises(InvalidInputError):
        jl.m_jl(1.5, 10, 0.1)


def test_ratio_approaches_limit_from_the_uncapped_count():
    # with m = M_DECODER uncapped, params/(log2 F!/b) -> RATIO_LIMIT; check the trend numerically
    lim = float(param_counts.RATIO_LIMIT.subs({rho: sp.Rational(1, 2), b: 2}))
    ratios = []
    for f in (10**4, 10**8, 10**16):
        mm = float(jl.M_DECODER.subs({rho: sp.Rational(1, 2), N: f, delta: sp.Rational(1, 100)}))
        ratios.append(3 * mm * f / (counting.permutation_bits_bounds(f)[1] / 2))
    gaps = [abs(r - lim) for r in ratios]
    assert gaps[0] > gaps[1] > gaps[2]


def _cp_upper(k: int, trials: int, conf: float) -> float:
    """One-sided Clopper-Pearson upper confidence bound on a binomial proportion."""
    return 1.0 if k == trials else float(beta.ppf(conf, k + 1, trials - k))


def _cp_lower(k: int, trials: int, conf: float) -> float:
    return 0.0 if k == 0 else float(beta.ppf(1 - conf, k, trials - k + 1))


def _jl_failures(m_dim: int, n_points: int, dim: int, e: float, trials: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_points, dim))
    iu = np.triu_indices(n_points, 1)
    diffs = (X[:, None, :] - X[None, :, :])[iu]  # (n(n-1)/2, dim)
    true = np.sum(diffs**2, axis=1)
    fails = 0
    for _ in range(trials):
        P = rng.standard_normal((m_dim, dim)) / np.sqrt(m_dim)
        ratio = np.sum((diffs @ P.T) ** 2, axis=1) / true
        fails += int(np.any(np.abs(ratio - 1) > e))
    return fails


def test_jl_monte_carlo_within_bound():
    e, dl, npts, trials = 0.5, 0.1, 20, 300
    md = jl.m_jl(e, npts, dl)
    k = _jl_failures(md, npts, 64, e, trials, seed=1)
    # 99% one-sided bound on the failure probability must not exceed delta
    assert _cp_upper(k, trials, 0.99) <= dl


def test_jl_monte_carlo_detects_too_small_m():
    # control: the same judge rejects a dimension far below the bound
    e, dl, npts, trials = 0.5, 0.1, 20, 300
    k = _jl_failures(4, npts, 64, e, trials, seed=2)
    assert _cp_lower(k, trials, 0.99) > dl


def test_inner_product_corollary_on_random_instances():
    rng = np.random.default_rng(3)
    e = 0.3
    checked = 0
    for _ in range(200):
        x = rng.standard_normal(40)
        y = rng.standard_normal(40)
        x /= np.linalg.norm(x)
        y /= np.linalg.norm(y)
        P = rng.standard_normal((60, 40)) / np.sqrt(60)
        rp = np.sum((P @ (x + y)) ** 2) / np.sum((x + y) ** 2) - 1
        rm = np.sum((P @ (x - y)) ** 2) / np.sum((x - y) ** 2) - 1
        if abs(rp) <= e and abs(rm) <= e:
            checked += 1
            assert abs((P @ x) @ (P @ y) - x @ y) <= e + 1e-12
    assert checked > 50


@pytest.mark.parametrize("method", ["encdec", "hebbian", "ntk"])
def test_counting_bound_below_every_measured_construction(method):
    """Every construction's measured parameter count (folded and factored) is >= F log2 N / b.

    b = 64: each parameter a float64, the most bits any of them could hold.
    A method under the bound would contradict the pigeonhole argument, so
    this can only fail through a bookkeeping bug (counts or bound).
    """
    from factmlp.constructions import METHODS, construct
    from factmlp.families import make_factset
    from factmlp.verify import verify_storage
    from theory.counting import param_lower_bound

    for dim, n_facts in [(8, 32), (12, 96)]:
        fs = make_factset("spherical", dim, n_facts, seed=dim)
        c = construct(fs, method, seed=0)
        if METHODS[method].guarantees(fs):
            assert verify_storage(c.mlp, fs).certified
        bound = param_lower_bound(n_facts, n_facts, 64.0)
        assert c.params >= bound
        if c.params_factored is not None:
            assert c.params_factored >= bound
