"""Capacity search: the generic width search, and min_width / capacity through a fake method.

The fake method ("_test_quadratic_*") is a real storing construction with a
known threshold: with identity activation, gate rows e_a and up rows e_b give
the quadratic features x_a x_b (d^2 units); a least-squares readout onto the
targets interpolates every fact when F <= d(d+1)/2 for generic keys, and
unit-norm distinct values then have margins 1 - <v_f, v_j> > 0.  Below the
threshold width it returns the zero MLP (stores nothing).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from factmlp.capacity import counting_bound, search_min_width
from factmlp.errors import InvalidInputError
from factmlp.families import make_factset
from factmlp.mlp import GatedMLP

# ------------------------------------------------------------ pure search ----


@given(lo=st.integers(1, 50), span=st.integers(0, 300), t_off=st.integers(0, 400), start_off=st.integers(0, 400))
def test_search_finds_threshold_of_monotone_predicate(lo, span, t_off, start_off):
    hi = lo + span
    t = lo + t_off  # may exceed hi
    start = lo + start_off % (span + 1)
    calls = []

    def stores(h):
        calls.append(h)
        assert lo <= h <= hi
        return h >= t

    h, order = search_min_width(stores, lo=lo, hi=hi, start=start)
    assert order == calls
    assert len(set(calls)) == len(calls)  # each width probed once
    if t <= hi:
        assert h == t
    else:
        assert h is None
    # exponential + binary phases: O(log) probes
    assert len(calls) <= 2 * math.ceil(math.log2(span + 2)) + 3


@given(cands=st.lists(st.integers(1, 500), min_size=1, max_size=40), t=st.integers(1, 520))
def test_search_over_candidate_widths(cands, t):
    hi = 500
    h, order = search_min_width(lambda w: w >= t, lo=1, hi=hi, candidates=cands)
    assert set(order) <= set(cands)
    above = [c for c in cands if c >= t]
    assert h == (min(above) if above else None)


def test_search_rejects_empty_range():
    with pytest.raises(InvalidInputError):
        search_min_width(lambda h: True, lo=5, hi=4)
    with pytest.raises(InvalidInputError):
        search_min_width(lambda h: True, lo=1, hi=4, candidates=[9, 10])


def test_counting_bound_formula():
    assert counting_bound(256, 256) == pytest.approx(256 * 8 / 32)
    assert counting_bound(100, 7, 2.0) == pytest.approx(100 * math.log2(7) / 2)


# --------------------------------------------------- min_width, fake method ----


def quadratic_mlp(factset, hidden, threshold):
    """Width ``hidden`` gated MLP that stores ``factset`` iff hidden >= threshold (>= d^2)."""
    d = factset.dim
    gate = np.zeros((hidden, d))
    up = np.zeros((hidden, d))
    down = np.zeros((d, hidden))
    if hidden >= threshold:
        a, b = np.divmod(np.arange(d * d), d)
        gate[np.arange(d * d), a] = 1.0
        up[np.arange(d * d), b] = 1.0
        k = factset.keys
        phi = k[:, a] * k[:, b]  # (F, d^2)
        w, *_ = np.linalg.lstsq(phi, factset.targets, rcond=None)  # (d^2, d)
        down[:, : d * d] = w.T
    return GatedMLP(gate, up, down, activation="identity")


def _builder(factset, hidden, seed=0, *, threshold=None, min_hidden=1, **_):
    if hidden < min_hidden:
        raise InvalidInputError(f"hidden={hidden} is below the structural minimum {min_hidden}")
    thr = factset.dim**2 if threshold is None else threshold
    return quadratic_mlp(factset, hidden, thr + (seed % 2))  # seed moves the threshold by 0 or 1


@pytest.fixture
def fake_method():
    constructions = pytest.importorskip("factmlp.constructions")
    pytest.importorskip("factmlp.verify")
    name = "_test_quadratic_capacity"
    constructions.register_method(name, _builder, default_hidden=16)
    yield name
    methods = constructions.METHODS
    if isinstance(methods, dict):
        methods.pop(name, None)


@pytest.fixture(scope="module")
def small_fs():
    return make_factset("spherical", 4, 8, 8, seed=3)  # F = 8 <= d(d+1)/2 = 10


@pytest.mark.parametrize("threshold", [16, 23, 40])
def test_min_width_finds_threshold(fake_method, small_fs, threshold):
    from factmlp.capacity import min_width

    res = min_width(small_fs, fake_method, seed=0, threshold=threshold, hi=64, rho=0.5)
    assert res.status == "ok"
    assert res.h_star == threshold
    assert res.params == 3 * small_fs.dim * threshold
    F, N = small_fs.n_facts, small_fs.n_values
    assert res.facts_per_param == pytest.approx(F / res.params)
    assert res.bits_per_param == pytest.approx(F * math.log2(N) / res.params)
    assert res.ratio_counting == pytest.approx(res.params / (F * math.log2(N) / 32))
    # probes agree with the ground truth and each width is probed once
    hs = [p.hidden for p in res.probes]
    assert len(hs) == len(set(hs))
    for p in res.probes:
        assert p.stored == (p.hidden >= threshold)
        assert p.total == F
        assert (p.n_stored == F) == p.stored
    assert res.seconds > 0 and res.construct_seconds <= res.seconds


def test_on_probe_reports_every_probe_in_order(fake_method, small_fs):
    """The progress callback sees each probe once, as the search makes it (partial results of a cut-off run)."""
    from factmlp.capacity import min_width

    seen = []
    res = min_width(small_fs, fake_method, seed=0, threshold=23, hi=64, start=40, rho=0.5, on_probe=seen.append)
    assert res.h_star == 23
    assert [(p.hidden, p.stored) for p in seen] == [(p.hidden, p.stored) for p in res.probes]
    assert seen[0].hidden == 40 and seen[0].stored  # the search started where it was told to


def test_structural_error_counts_as_not_stored(fake_method, small_fs):
    from factmlp.capacity import min_width

    res = min_width(small_fs, fake_method, seed=0, threshold=16, min_hidden=30, hi=64, rho=0.5)
    assert res.h_star == 30
    errs = [p for p in res.probes if p.error]
    assert errs and all(p.hidden < 30 and not p.stored for p in errs)
    assert "structural minimum" in errs[0].error


def test_not_found_when_hi_too_small(fake_method, small_fs):
    from factmlp.capacity import min_width

    res = min_width(small_fs, fake_method, seed=0, threshold=40, hi=39, rho=0.5)
    assert res.status == "not_found" and res.h_star is None and res.params is None
    assert math.isnan(res.facts_per_param)
    assert all(not p.stored for p in res.probes)


def test_candidate_widths_option(fake_method, small_fs):
    from factmlp.capacity import min_width

    res = min_width(small_fs, fake_method, seed=0, threshold=17, widths=[8, 16, 24, 32], hi=64, rho=0.5)
    assert res.h_star == 24
    assert {p.hidden for p in res.probes} <= {8, 16, 24, 32}


def test_capacity_over_seeds(fake_method, small_fs):
    from factmlp.capacity import capacity

    summ = capacity(small_fs, fake_method, seeds=(0, 1, 2), threshold=20, hi=64)
    assert [r.seed for r in summ.results] == [0, 1, 2]
    assert [r.h_star for r in summ.results] == [20, 21, 20]
    assert summ.h_star_min == 20 and summ.h_star_max == 21 and summ.h_star_median == 20
    assert summ.n_found == 3
    # rho computed once, shared, and positive for distinct spherical values
    assert len({r.rho for r in summ.results}) == 1 and summ.results[0].rho > 0
    d = summ.to_dict()
    assert d["results"][1]["probes"]
