"""The Hebbian / bilinear construction (factmlp.constructions.hebbian)."""

from __future__ import annotations

import numpy as np
import pytest

from factmlp import make_factset
from factmlp.constructions import METHODS, construct
from factmlp.constructions.registry import feasibility
from factmlp.errors import DegenerateKeysError, InvalidInputError
from factmlp.factset import FactSet
from factmlp.testing import float_margins


def _weights(c):
    return c.mlp.gate_proj, c.mlp.up_proj, c.mlp.down_proj


@pytest.mark.parametrize("readout, width", [("ridge", lambda F, d: F), ("raw", lambda F, d: 4 * d)])
def test_default_width_shape_and_counts(readout, width):
    fs = make_factset("spherical", d=12, facts=40, seed=1)
    c = construct(fs, "hebbian", seed=0, readout=readout)
    h = width(40, 12)
    assert c.hidden == h == c.theory_hidden
    assert c.mlp.activation == "identity"
    assert c.mlp.gate_proj.shape == (h, 12) and c.mlp.up_proj.shape == (h, 12) and c.mlp.down_proj.shape == (12, h)
    assert c.params == 3 * 12 * h == c.param_bound
    assert c.info["readout"] == readout and c.info["targets"] == "directions" and c.info["lam"] == 0


def test_explicit_width_is_used():
    fs = make_factset("gaussian", d=10, facts=30, seed=2)
    c = construct(fs, "hebbian", hidden=17, seed=0)
    assert c.hidden == 17 and c.mlp.hidden == 17 and c.params == 3 * 10 * 17
    assert c.theory_hidden == 30 and c.param_bound == 3 * 10 * 30


def test_features_are_the_bilinear_map():
    """hidden activations = (gate k) * (up k) with identity activation; gate = A0/sqrt(m) has RMS ~ 1/sqrt(m)."""
    fs = make_factset("spherical", d=16, facts=48, seed=3)
    c = construct(fs, "hebbian", seed=0)
    K = fs.keys
    phi = c.mlp.hidden_activations(K)
    np.testing.assert_allclose(phi, (K @ c.mlp.gate_proj.T) * (K @ c.mlp.up_proj.T), rtol=1e-12, atol=1e-14)
    m = c.hidden
    # unit-norm keys: A0 entries N(0, 1), so gate entries have variance 1/m
    assert 0.5 < np.sqrt(m) * np.std(c.mlp.gate_proj) < 1.5
    assert 0.5 < np.std(c.mlp.up_proj) < 1.5


@pytest.mark.parametrize("targets", ["directions", "values"])
@pytest.mark.parametrize("hidden", [20, 48, 70])
def test_ridge_readout_solves_the_normal_equations(targets, hidden):
    """(Phi^T Phi + lam' I) W^T = Phi^T T with lam' = lam tr(Phi^T Phi)/m."""
    fs = make_factset("spherical", d=10, facts=48, seed=4)
    lam = 1e-4
    c = construct(fs, "hebbian", hidden=hidden, seed=1, targets=targets, lam=lam)
    Phi = c.mlp.hidden_activations(fs.keys)
    T = feasibility(fs).directions[fs.mapping] if targets == "directions" else fs.targets
    lam_eff = lam * np.sum(Phi * Phi) / hidden
    assert c.info["lam_effective"] == pytest.approx(lam_eff, rel=1e-12)
    lhs = (Phi.T @ Phi + lam_eff * np.eye(hidden)) @ c.mlp.down_proj.T
    np.testing.assert_allclose(lhs, Phi.T @ T, rtol=0, atol=1e-8 * np.abs(Phi.T @ T).max())
    resid = np.linalg.norm(Phi @ c.mlp.down_proj.T - T) / np.linalg.norm(T)
    assert c.info["relative_residual"] == pytest.approx(resid, rel=1e-9)


def test_lam_zero_is_the_minimum_norm_interpolant():
    fs = make_factset("spherical", d=12, facts=30, seed=5)
    c = construct(fs, "hebbian", hidden=40, seed=0, lam=0)
    Phi = c.mlp.hidden_activations(fs.keys)
    T = feasibility(fs).directions[fs.mapping]
    np.testing.assert_allclose(c.mlp.down_proj.T, np.linalg.pinv(Phi) @ T, atol=1e-8)
    assert c.info["relative_residual"] < 1e-9


def test_raw_readout_is_the_outer_product_sum():
    fs = make_factset("gaussian", d=8, facts=32, seed=6)
    c = construct(fs, "hebbian", seed=0, readout="raw", targets="values")
    Phi = c.mlp.hidden_activations(fs.keys)
    hebb = Phi.T @ fs.targets  # sum_i phi(k_i) t_i^T, (m, d)
    ratio = c.mlp.down_proj.T / hebb
    assert np.all(ratio > 0)
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-10)


def test_raw_readout_reports_its_residual_honestly():
    fs = make_factset("spherical", d=8, facts=36, seed=7)
    c = construct(fs, "hebbian", seed=0, readout="raw")
    Phi = c.mlp.hidden_activations(fs.keys)
    T = feasibility(fs).directions[fs.mapping]
    resid = np.linalg.norm(Phi @ c.mlp.down_proj.T - T) / np.linalg.norm(T)
    assert c.info["relative_residual"] == pytest.approx(resid, rel=1e-9)
    assert not METHODS["hebbian"].guarantees(fs, readout="raw")


def test_deterministic_under_a_seed():
    fs = make_factset("spherical", d=12, facts=40, seed=8)
    a = construct(fs, "hebbian", seed=11)
    b = construct(fs, "hebbian", seed=11)
    for x, y in zip(_weights(a), _weights(b), strict=True):
        assert np.array_equal(x, y)
    g1 = construct(fs, "hebbian", seed=np.random.default_rng(5))
    g2 = construct(fs, "hebbian", seed=np.random.default_rng(5))
    assert all(np.array_equal(x, y) for x, y in zip(_weights(g1), _weights(g2), strict=True))
    other = construct(fs, "hebbian", seed=12)
    assert not np.array_equal(other.mlp.gate_proj, a.mlp.gate_proj)


def test_guarantee_follows_the_rank_cap():
    meth = METHODS["hebbian"]
    small = make_factset("spherical", d=8, facts=36, seed=0)  # 36 = d(d+1)/2
    big = make_factset("spherical", d=8, facts=37, seed=0)
    assert meth.guarantees(small, lam=0) and meth.guarantees(small, readout="ridge", lam=0.0)
    assert not meth.guarantees(big, lam=0)
    assert not meth.guarantees(small, readout="raw", lam=0)
    assert not meth.guarantees(small, lam=0, targets="values")
    assert meth.guarantees(small)  # the defaults: ridge, directions, lam = 0
    assert not meth.guarantees(small, lam=1e-6)  # the revision's lam biases the fit: no claim


CASES = [
    ("spherical", 8, 36, 0),
    ("gaussian", 8, 30, 1),
    ("spherical", 12, 64, 2),
    ("gaussian", 16, 64, 3),
    ("spherical", 16, 50, 4),
    ("condition", 8, 16, 11297),
]


@pytest.mark.parametrize("family, d, F, seed", CASES)
def test_ridge_stores_every_fact_at_default_width_float(family, d, F, seed):
    fs = make_factset(family, d=d, facts=F, seed=seed)
    assert METHODS["hebbian"].guarantees(fs)
    c = construct(fs, "hebbian", seed=seed)
    assert c.hidden == F
    assert np.all(float_margins(c.mlp(fs.keys), fs) > 0)


@pytest.mark.parametrize("family, d, F, seed", CASES)
def test_ridge_stores_every_fact_at_default_width_certified(family, d, F, seed):
    verify = pytest.importorskip("factmlp.verify")
    fs = make_factset(family, d=d, facts=F, seed=seed)
    c = construct(fs, "hebbian", seed=seed)
    rep = verify.verify_storage(c.mlp, fs)
    assert rep.certified and rep.stored == rep.total == F
    assert rep.min_margin > 0 and len(rep.failing) == 0


def test_revision_lam_reports_honestly():
    """lam = 1e-6 (the revision's) claims nothing; its report must agree with the fit it built."""
    verify = pytest.importorskip("factmlp.verify")
    fs = make_factset("spherical", d=12, facts=64, seed=19)
    c = construct(fs, "hebbian", seed=0, lam=1e-6)
    assert c.info["relative_residual"] > 1e-6  # biased: not an interpolant
    rep = verify.verify_storage(c.mlp, fs)
    m = float_margins(c.mlp(fs.keys), fs)
    assert rep.stored == int(np.sum(m > 0)) and rep.total == 64


def test_raw_report_agrees_with_float_margins():
    """No claim that raw stores: the certified count must match clearly signed float margins."""
    verify = pytest.importorskip("factmlp.verify")
    fs = make_factset("spherical", d=12, facts=64, seed=9)
    c = construct(fs, "hebbian", seed=0, readout="raw")
    rep = verify.verify_storage(c.mlp, fs)
    m = float_margins(c.mlp(fs.keys), fs)
    clear = np.abs(m) > 1e-8 * np.abs(m).max()
    certified = np.ones(fs.n_facts, bool)
    certified[np.asarray(rep.failing, dtype=int)] = False
    assert np.array_equal(certified[clear], m[clear] > 0)
    assert rep.stored == int(certified.sum()) and rep.total == 64


def _with_keys(fs: FactSet, keys: np.ndarray, mapping=None) -> FactSet:
    return FactSet(keys, fs.values, fs.mapping if mapping is None else mapping)


def test_antipodal_keys_conflict_because_the_features_are_even():
    fs = make_factset("spherical", d=8, facts=20, values=20, seed=11)
    K = fs.keys.copy()
    K[9] = -K[2]
    with pytest.raises(DegenerateKeysError) as exc:
        construct(_with_keys(fs, K), "hebbian", seed=0)
    assert exc.value.indices == [2, 9]


@pytest.mark.parametrize(
    "options",
    [
        {"readout": "hebb"},
        {"targets": "keys"},
        {"lam": -1.0},
        {"lam": float("nan")},
        {"lam": "small"},
        {"lam": True},
        {"ridge": 1e-3},
    ],
)
def test_bad_options(options):
    fs = make_factset("spherical", d=8, facts=10, seed=15)
    with pytest.raises(InvalidInputError):
        construct(fs, "hebbian", seed=0, **options)
