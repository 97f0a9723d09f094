"""The encoder-decoder construction: storage at the guarantee width, layout, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from factmlp.constructions import METHODS, construct
from factmlp.constructions.encdec import conflicting_duplicate_keys, encdec_layout, encdec_widths
from factmlp.decodability import decodability
from factmlp.errors import DegenerateKeysError, InfeasibleFactSetError, InvalidInputError
from factmlp.factset import FactSet
from factmlp.families import FAMILIES, make_factset
from factmlp.verify import verify_storage


def feasible_factset(family, d, facts, values=None, seed=0, **kw):
    """The first fact set from seeds seed, seed+1, ... whose used values are all decodable."""
    from factmlp.feasibility import check_feasible

    for s in range(seed, seed + 50):
        fs = make_factset(family, d, facts, values, seed=s, **kw)
        try:
            check_feasible(fs)
            return fs
        except InfeasibleFactSetError:
            continue
    raise RuntimeError("no feasible fact set in 50 seeds")


@pytest.mark.parametrize("family", FAMILIES)
def test_stores_every_fact_at_default_width(family):
    fs = feasible_factset(family, 10, 60, 60, seed=7)
    c = construct(fs, "encdec", seed=1)
    rep = verify_storage(c.mlp, fs)
    assert rep.certified and rep.stored == fs.n_facts, (family, rep.failing)
    assert c.hidden == c.theory_hidden
    assert c.params == 3 * fs.dim * c.hidden
    assert c.param_bound is not None and c.params <= c.param_bound


def test_many_values_fewer_facts_and_generic_map():
    fs = feasible_factset("gaussian", 12, 100, 300, seed=2)
    c = construct(fs, "encdec", seed=0)
    assert verify_storage(c.mlp, fs).certified


def test_layout_and_factored_form_agree_with_folded_mlp():
    fs = make_factset("spherical", 8, 40, seed=3)
    c = construct(fs, "encdec", seed=0, projection="random", code_dim=6)
    m, r = c.info["m"], c.info["r"]
    assert (m, r) == (6, c.hidden // 6)
    G, X, Q = c.factored["gate"], c.factored["up"], c.factored["projection"]
    assert G.shape == (r, 8) and X.shape == (r, 8, m) and Q.shape == (m, 8)
    assert c.params_factored == 8 * r + 8 * m * r + m * 8

    def act(z):  # silu
        return z / (1 + np.exp(-z))

    S = act(fs.keys @ G.T)  # (F, r)
    codes = np.einsum("it,ia,tac->ic", S, fs.keys, X)  # E(k_i)
    np.testing.assert_allclose(c.mlp(fs.keys), codes @ Q, rtol=1e-10, atol=1e-10)


def test_exact_fit_stores_exactly_the_facts_whose_projected_value_is_a_vertex():
    # with m < d, fact i is stored iff z_{f(i)} = Q v_{f(i)} is a vertex of the projected values
    fs = make_factset("spherical", 16, 200, seed=4)
    c = construct(fs, "encdec", hidden=encdec_widths(fs)[5], seed=0, projection="random")
    assert c.info["exact_system"] and c.info["relative_residual"] < 1e-8
    Q = c.factored["projection"]
    res = decodability(fs.values @ Q.T, fs.used_values)
    vertex = res.vertex[fs.mapping] & (res.lower[fs.mapping] > 0)
    rep = verify_storage(c.mlp, fs)
    stored = np.ones(fs.n_facts, bool)
    stored[rep.failing] = False
    assert not np.any(stored & ~vertex), "a fact whose projected value is not a vertex cannot be stored"
    assert np.array_equal(stored, vertex)


def test_deterministic_under_seed_and_seed_matters():
    fs = feasible_factset("gaussian", 8, 50, seed=5)
    a = construct(fs, "encdec", seed=11)
    b = construct(fs, "encdec", seed=11)
    c = construct(fs, "encdec", seed=12)
    for name in ("gate_proj", "up_proj", "down_proj"):
        assert np.array_equal(getattr(a.mlp, name), getattr(b.mlp, name))
    assert not np.array_equal(a.mlp.gate_proj, c.mlp.gate_proj)
    g = np.random.default_rng(3)
    assert construct(fs, "encdec", seed=g).seed is None


def test_widths_and_layout():
    fs = make_factset("spherical", 8, 50, seed=0)
    r0 = math.ceil(50 / 8)
    assert encdec_widths(fs) == [m * r0 for m in range(1, 9)]
    assert encdec_layout(50, 8, 3 * r0) == (3, r0)
    assert encdec_layout(50, 8, 100 * r0) == (8, 100 * r0 // 8)
    with pytest.raises(InvalidInputError, match="structural minimum"):
        construct(fs, "encdec", hidden=r0 - 1)


def test_explicit_small_width_is_a_result_not_an_error():
    fs = make_factset("spherical", 8, 64, seed=1)
    c = construct(fs, "encdec", hidden=8, seed=0, code_dim=1)  # r d = 64 = F, m = 1: codes in 1-D
    rep = verify_storage(c.mlp, fs)
    assert rep.stored < fs.n_facts and not rep.certified


def test_whitening_stores_anisotropic_values():
    fs = feasible_factset("condition", 10, 60, seed=8, condition=100.0)
    c = construct(fs, "encdec", seed=0, whiten=True)
    assert verify_storage(c.mlp, fs).certified
    assert c.info["whiten"] is True and c.info["whiten_strength"] == 1.0


def test_whitening_strength_interpolates():
    fs = feasible_factset("spiked", 8, 40, seed=3)
    plain = construct(fs, "encdec", seed=0)
    # one width for all three (the default code dimension is searched per whitening strength)
    none = construct(fs, "encdec", hidden=plain.hidden, seed=0, whiten=0.0)
    half = construct(fs, "encdec", hidden=plain.hidden, seed=0, whiten=0.5)
    assert np.array_equal(none.mlp.down_proj, plain.mlp.down_proj)
    assert not np.allclose(half.mlp.down_proj, plain.mlp.down_proj)
    assert verify_storage(half.mlp, fs).certified


def test_conflicting_duplicate_keys_raise_with_indices():
    fs = make_factset("spherical", 6, 20, seed=0)
    keys = fs.keys.copy()
    keys[13] = keys[4]
    mapping = fs.mapping.copy()
    assert mapping[13] != mapping[4]
    bad = FactSet(keys, fs.values, mapping)
    assert conflicting_duplicate_keys(bad) == [(4, 13)]
    with pytest.raises(DegenerateKeysError) as exc:
        construct(bad, "encdec", seed=0)
    assert exc.value.indices == [4, 13] and "4" in str(exc.value) and "13" in str(exc.value)


def test_consistent_duplicate_keys_are_fine():
    fs = make_factset("spherical", 6, 20, seed=0)
    keys = fs.keys.copy()
    mapping = fs.mapping.copy()
    keys[13] = keys[4]
    mapping[13] = mapping[4]
    ok = FactSet(keys, fs.values, mapping)
    c = construct(ok, "encdec", seed=0)
    assert verify_storage(c.mlp, ok).certified


def test_keys_in_a_small_subspace_raise():
    # keys in a 2-D subspace of R^8: r * 2 < F unknown directions, the exact system is unsolvable
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.standard_normal((8, 2)))[0].T
    keys = rng.standard_normal((48, 2)) @ basis
    fs = make_factset("spherical", 8, 48, seed=1)
    bad = FactSet(keys, fs.values, fs.mapping)
    with pytest.raises(DegenerateKeysError, match="rank 2"):
        construct(bad, "encdec", seed=0)


def test_infeasible_set_raises_before_work():
    fs = make_factset("spherical", 4, 10, seed=0)
    values = fs.values.copy()
    values[fs.mapping[0]] = 0.0  # the centre of the sphere: inside the hull
    with pytest.raises(InfeasibleFactSetError) as exc:
        construct(FactSet(fs.keys, values, fs.mapping), "encdec")
    assert int(fs.mapping[0]) in exc.value.indices


@pytest.mark.parametrize(
    "opts",
    [
        {"activation": "tanh"},
        {"projection": "fft"},
        {"whiten": "yes"},
        {"whiten": 1.5},
        {"code_dim": 0},
        {"delta": 2.0},
    ],
)
def test_bad_options(opts):
    fs = make_factset("spherical", 4, 10, seed=0)
    with pytest.raises(InvalidInputError):
        construct(fs, "encdec", **opts)


def test_registered_with_guarantee():
    fs = make_factset("spherical", 4, 10, seed=0)
    m = METHODS["encdec"]
    assert m.guarantees(fs) and not m.guarantees(fs, activation="identity")


def test_gate_slack_widens_default_and_shrinks_weights():
    fs = make_factset("spherical", 8, 64, seed=9)
    base = construct(fs, "encdec", seed=0)
    slack = construct(fs, "encdec", seed=0, gate_slack=2)
    assert slack.hidden == base.hidden + 2 * base.info["m"] and slack.info["r"] == base.info["r"] + 2
    assert slack.param_bound == base.param_bound  # the theory's count has no slack
    assert verify_storage(slack.mlp, fs).certified
    with pytest.raises(InvalidInputError):
        construct(fs, "encdec", gate_slack=-1)


@pytest.mark.parametrize(
    "family,d,facts,values",
    [
        ("spherical", 8, 32, 32),
        ("kaiming", 8, 40, 40),
        ("uniform", 10, 40, 40),
        ("tied", 8, 40, 64),
        ("spiked", 12, 48, 96),
    ],
)
def test_default_width_is_below_plain_interpolation(family, d, facts, values):
    """F >= 4 d, generic: the searched code dimension m < d, so 3 d m ceil(F/d) < 3 d F, and every fact is stored.

    Not claimed for the gaussian and condition families at these sizes: their
    few feasible sets have rho ~ 1e-2, and no projection below d keeps every
    used value a vertex (m = d, interpolation-sized; docs/constructions.md).
    """
    fs = feasible_factset(family, d, facts, values, seed=1)
    c = construct(fs, "encdec", seed=0)
    assert c.params < 3 * d * facts, (c.info["m"], c.info["r"], c.params)
    assert c.params_factored < c.params
    assert verify_storage(c.mlp, fs).certified
    theory = construct(fs, "encdec", seed=0, code_dim="theory")
    assert theory.hidden >= c.hidden and theory.param_bound == c.param_bound


def test_searched_code_dim_is_the_smallest_probed_certified_one():
    from factmlp.constructions.encdec import min_code_dim

    fs = make_factset("spherical", 12, 60, seed=2)
    out = min_code_dim(fs)
    m = out["m"]
    assert 1 <= m < 12 and (m, True) in out["probes"]
    assert all(not ok for mm, ok in out["probes"] if mm < m)  # bisection: everything below it failed
    # the certified projection at m is what the default construction uses
    Q = construct(fs, "encdec", seed=5).factored["projection"]
    assert decodability(fs.values @ Q.T, fs.used_values).rho > 0 and Q.shape == (m, 12)
