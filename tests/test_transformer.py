"""The frozen 1-layer Transformer: keys, recall with a stored MLP, bypass scaling, Lipschitz bounds."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from factmlp.errors import DegenerateKeysError, InvalidInputError, MappingRangeError, ShapeError  # noqa: E402
from factmlp.factset import FactSet  # noqa: E402
from factmlp.mlp import ACTIVATIONS, GatedMLP  # noqa: E402
from factmlp.transformer import (  # noqa: E402
    ACT_DERIV_SUP,
    FactQueries,
    OneLayerTransformer,
    bypass_scale,
    correct,
    fact_keys_values,
    lipschitz_bounds,
    lipschitz_upper_bound,
    make_fact_queries,
    recall,
    recall_by_method,
    recall_under_noise,
)

V, D, F = 64, 16, 48


def _interpolating_mlp(fs: FactSet, seed: int = 0) -> GatedMLP:
    """A test-only MLP that maps every key exactly to its target row: random gate/up, least-squares down.

    Hidden activations H (F x h, h >= F) are generically of full row rank, so
    ``W_down^T = H^+ V[f]`` gives ``g(k_i) = e_{f(i)}`` up to rounding; for unit
    rows that is margin ``1 - <e_o, e_j> > 0``: every fact stored.
    """
    rng = np.random.default_rng(seed)
    h = fs.n_facts + 8
    gate = rng.standard_normal((h, fs.dim)) / np.sqrt(fs.dim)
    up = rng.standard_normal((h, fs.dim)) / np.sqrt(fs.dim)
    tmp = GatedMLP(gate, up, np.zeros((fs.dim, h)), "silu")
    H = tmp.hidden_activations(fs.keys)
    down = np.linalg.lstsq(H, fs.targets, rcond=None)[0].T
    return GatedMLP(gate, up, down, "silu")


@pytest.fixture(scope="module")
def setup():
    model = OneLayerTransformer(V, D, seed=3)
    facts = make_fact_queries(V, F, seed=4, n_relations=4)
    fs = fact_keys_values(model, facts)
    return model, facts, fs


def test_fact_queries_validation():
    with pytest.raises(MappingRangeError):
        FactQueries(np.array([[1, 2]]), np.array([70]), 64)
    with pytest.raises(MappingRangeError):
        FactQueries(np.array([[1, -1]]), np.array([0]), 64)
    with pytest.raises(InvalidInputError) as err:
        FactQueries(np.array([[1, 2], [3, 4], [1, 2]]), np.array([0, 1, 2]), 64)
    assert err.value.indices == [2]
    with pytest.raises(ShapeError):
        FactQueries(np.array([1, 2]), np.array([0, 1]), 64)
    with pytest.raises(InvalidInputError):
        make_fact_queries(8, 100, seed=0, n_relations=2)  # only 2 * 6 pairs exist


def test_make_fact_queries_shapes_and_determinism():
    a = make_fact_queries(V, F, seed=1, n_relations=4, subject_tokens=2)
    b = make_fact_queries(V, F, seed=1, n_relations=4, subject_tokens=2)
    assert a.prompts.shape == (F, 3) and np.array_equal(a.prompts, b.prompts)
    assert np.array_equal(a.objects, b.objects)
    assert (a.prompts[:, -1] < 4).all() and (a.prompts[:, :-1] >= 4).all()
    assert len({tuple(p) for p in a.prompts}) == F


def test_keys_are_the_mlp_inputs(setup):
    model, facts, fs = setup
    assert fs.n_facts == F and fs.n_values == V and fs.dim == D
    assert np.array_equal(fs.mapping, facts.objects)
    assert np.allclose(fs.values, model.embedding_matrix())
    # RMSNorm with unit gain: ||k|| = sqrt(d) up to eps
    assert np.allclose(np.linalg.norm(fs.keys, axis=1), np.sqrt(D), rtol=1e-5)
    # the keys are what the MLP sees: with a linear probe MLP, the model's logits equal probe(keys) E^T
    rng = np.random.default_rng(0)
    probe = GatedMLP(rng.standard_normal((5, D)), rng.standard_normal((5, D)), rng.standard_normal((D, 5)), "identity")
    model.set_mlp(probe)
    with torch.no_grad():
        logits = model(facts.prompts)[:, -1].numpy()
    np.testing.assert_allclose(logits, probe(fs.keys) @ fs.values.T, rtol=1e-10, atol=1e-10)


def test_attention_is_causal(setup):
    model, facts, _ = setup
    p = facts.prompts.copy()
    q = p.copy()
    q[:, -1] = (q[:, -1] + 1) % 4  # change the last token only
    with torch.no_grad():
        a = model.mlp_inputs(p)[:, 0].numpy()
        b = model.mlp_inputs(q)[:, 0].numpy()
        c = model.mlp_inputs(p)[:, -1].numpy()
        e = model.mlp_inputs(q)[:, -1].numpy()
    assert np.array_equal(a, b)  # earlier positions do not see later tokens
    assert not np.allclose(c, e)


def test_stored_factset_gives_full_recall(setup):
    model, facts, fs = setup
    mlp = _interpolating_mlp(fs)
    margins = mlp(fs.keys) @ fs.values.T
    own = margins[np.arange(F), fs.mapping]
    margins[np.arange(F), fs.mapping] = -np.inf
    assert (own - margins.max(axis=1) > 0).all()  # the MLP stores the fact set ...
    model.set_mlp(mlp)
    assert recall(model, facts) == 1.0  # ... so the whole model answers every fact


def test_recall_counts_wrong_answers(setup):
    model, facts, fs = setup
    mlp = _interpolating_mlp(fs)
    model.set_mlp(mlp)
    wrong = facts.with_objects((facts.objects + 1) % V)
    assert recall(model, wrong) == 0.0
    mixed = facts.objects.copy()
    mixed[:10] = (mixed[:10] + 1) % V
    ok = correct(model, facts.with_objects(mixed))
    assert not ok[:10].any() and ok[10:].all()


def test_empty_slot_and_mismatched_vocab(setup):
    _, facts, _ = setup
    fresh = OneLayerTransformer(V, D, seed=3)
    with pytest.raises(InvalidInputError):
        recall(fresh, facts)
    other = OneLayerTransformer(V + 1, D, seed=3)
    with pytest.raises(ShapeError):
        fact_keys_values(other, facts)


def test_bypass_scale_is_needed_and_sufficient(setup):
    _, facts, fs = setup
    model = OneLayerTransformer(V, D, seed=3, residual_mlp=True)
    fs_b = fact_keys_values(model, facts)
    assert np.allclose(fs_b.keys, fs.keys)  # bypass does not change the MLP's inputs
    mlp = _interpolating_mlp(fs_b)
    c = bypass_scale(model, mlp, facts, safety=1.0)
    model.set_mlp(mlp, c * 1.01)
    assert recall(model, facts) == 1.0
    if c > 1e-6:  # below c* the fact attaining the max fails
        model.set_mlp(mlp, c * 0.99)
        assert recall(model, facts) < 1.0


def test_recall_by_method_reports_every_method(setup):
    model, facts, fs = setup
    from factmlp.constructions import METHODS

    rows = recall_by_method(model, facts, gd_hidden=F, gd_steps=300, seed=0)
    names = [r["method"] for r in rows]
    assert names == [m for m in METHODS if m != "gd"] + ["gd"]
    for r in rows:
        assert r["error"] is not None or 0.0 <= r["recall"] <= 1.0


def test_encdec_recall_in_the_model(setup):
    model, facts, fs = setup
    from factmlp.constructions import METHODS, construct

    if "encdec" not in METHODS:
        pytest.fail("encdec is not registered")
    c = construct(fs, "encdec", seed=0)
    model.set_mlp(c.mlp)
    assert recall(model, facts) >= 0.99


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_lipschitz_bounds_bracket_finite_differences(activation):
    rng = np.random.default_rng(5)
    d, h = 6, 9
    mlp = GatedMLP(
        rng.standard_normal((h, d)), rng.standard_normal((h, d)), rng.standard_normal((d, h)) / 3, activation
    )
    keys = rng.standard_normal((20, d))
    b = lipschitz_bounds(mlp, keys)
    assert 0 < b["lower"] <= b["upper"]
    # random secants inside the ball never exceed the upper bound
    R = b["radius"]
    x = rng.standard_normal((2000, d))
    x *= (R * rng.uniform(0, 1, (2000, 1)) ** (1 / d)) / np.linalg.norm(x, axis=1, keepdims=True)
    y = x + 1e-3 * rng.standard_normal(x.shape)
    y *= np.minimum(1.0, R / np.linalg.norm(y, axis=1, keepdims=True))
    ratio = np.linalg.norm(mlp(x) - mlp(y), axis=1) / np.linalg.norm(x - y, axis=1)
    assert ratio.max() <= b["upper"]
    # the lower bound is a real Jacobian norm: a finite difference along its top direction approaches it
    k = keys[b["argmax"]]
    J = np.stack([(mlp(k + 1e-6 * e) - mlp(k - 1e-6 * e)) / 2e-6 for e in np.eye(d)], axis=1)
    if activation != "relu":
        assert np.isclose(np.linalg.norm(J, 2), b["lower"], rtol=1e-5)


def test_activation_derivative_constants():
    t = np.linspace(-20, 20, 400001)
    s = 1 / (1 + np.exp(-t))
    silu_d = s * (1 + t * (1 - s))
    from scipy.special import erf

    gelu_d = 0.5 * (1 + erf(t / np.sqrt(2))) + t * np.exp(-t * t / 2) / np.sqrt(2 * np.pi)
    assert np.abs(silu_d).max() <= ACT_DERIV_SUP["silu"] < np.abs(silu_d).max() + 1e-3
    assert np.abs(gelu_d).max() <= ACT_DERIV_SUP["gelu"] < np.abs(gelu_d).max() + 1e-3


def test_lipschitz_upper_bound_scales_linearly_in_radius():
    rng = np.random.default_rng(1)
    mlp = GatedMLP(rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.standard_normal((3, 4)), "silu")
    assert np.isclose(lipschitz_upper_bound(mlp, 2.0), 2 * lipschitz_upper_bound(mlp, 1.0))
    with pytest.raises(InvalidInputError):
        lipschitz_upper_bound(mlp, float("nan"))
    with pytest.raises(ShapeError):
        lipschitz_bounds(mlp, np.zeros((2, 5)))


def test_noise_zero_equals_recall_and_large_noise_hurts(setup):
    model, facts, fs = setup
    model.set_mlp(_interpolating_mlp(fs))
    assert recall_under_noise(model, facts, 0.0, seed=0) == recall(model, facts) == 1.0
    assert recall_under_noise(model, facts, 100.0, seed=0, trials=2) < 0.5
    with pytest.raises(InvalidInputError):
        recall_under_noise(model, facts, -1.0)


def test_duplicate_keys_are_refused():
    model = OneLayerTransformer(V, D, seed=0)
    with torch.no_grad():
        model.w_v.zero_()  # attention adds nothing; positions still differ ...
        model.pos.zero_()  # ... and now keys depend on the last token only
    facts = FactQueries(np.array([[10, 1], [11, 1], [12, 2]]), np.array([0, 1, 2]), V)
    with pytest.raises(DegenerateKeysError) as err:
        fact_keys_values(model, facts)
    assert err.value.indices == [1]
