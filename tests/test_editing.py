"""Editing facts in the 1-layer Transformer: MLP swap, fine-tuning, ROME-style rank-one edits."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from factmlp.editing import (  # noqa: E402
    choose_edits,
    evaluate_edit,
    finetune_edit,
    rome_edit,
    run_edit,
)
from factmlp.errors import InvalidInputError  # noqa: E402
from factmlp.mlp import GatedMLP  # noqa: E402
from factmlp.transformer import (  # noqa: E402
    OneLayerTransformer,
    fact_keys_values,
    make_fact_queries,
    recall,
)

V, D, F = 64, 16, 48


def _interpolating_mlp(fs, seed=0, extra=8):
    rng = np.random.default_rng(seed)
    h = fs.n_facts + extra
    gate = rng.standard_normal((h, fs.dim)) / np.sqrt(fs.dim)
    up = rng.standard_normal((h, fs.dim)) / np.sqrt(fs.dim)
    H = GatedMLP(gate, up, np.zeros((fs.dim, h)), "silu").hidden_activations(fs.keys)
    return GatedMLP(gate, up, np.linalg.lstsq(H, fs.targets, rcond=None)[0].T, "silu")


@pytest.fixture(scope="module")
def setup():
    model = OneLayerTransformer(V, D, seed=11)
    facts = make_fact_queries(V, F, seed=12, n_relations=4)
    model.set_mlp(_interpolating_mlp(fact_keys_values(model, facts)))
    assert recall(model, facts) == 1.0
    return model, facts


def test_choose_edits(setup):
    _, facts = setup
    after, idx = choose_edits(facts, 0.25, seed=0)
    assert idx.size == 12 and np.all(np.diff(idx) > 0)
    changed = np.flatnonzero(after.objects != facts.objects)
    assert np.array_equal(changed, idx)  # every chosen fact gets a different object, no other changes
    assert np.array_equal(after.prompts, facts.prompts)
    a2, i2 = choose_edits(facts, 0.25, seed=0)
    assert np.array_equal(a2.objects, after.objects) and np.array_equal(i2, idx)
    assert choose_edits(facts, 0.001, seed=0)[1].size == 1
    with pytest.raises(InvalidInputError):
        choose_edits(facts, 0.0)


def test_evaluate_edit_counts(setup):
    model, facts = setup
    after, idx = choose_edits(facts, 0.25, seed=1)
    s = evaluate_edit(model, after, idx)  # the unedited model answers the old objects
    assert s == {"edit_success": 0.0, "retention": 1.0}


def test_swap_edit_with_encdec(setup):
    model, facts = setup
    from factmlp.constructions import METHODS

    if "encdec" not in METHODS:
        pytest.fail("encdec is not registered")
    after, idx = choose_edits(facts, 0.1, seed=2)
    before_mlp = model.get_mlp()
    out = run_edit(model, facts, after, idx, "swap", method="encdec", seed=0)
    assert out.edit_success == 1.0 and out.retention == 1.0 and out.recall_before == 1.0
    assert out.n_edited == idx.size and out.seconds > 0
    assert np.array_equal(model.get_mlp().down_proj, before_mlp.down_proj)  # the model itself is untouched


def test_rome_single_edit_is_exact_and_local(setup):
    model, facts = setup
    after, idx = choose_edits(facts, 0.02, seed=3)
    assert idx.size == 1
    old = model.get_mlp()
    new, info = rome_edit(model, after, idx)
    fs = fact_keys_values(model, after)
    assert np.array_equal(new.gate_proj, old.gate_proj) and np.array_equal(new.up_proj, old.up_proj)
    rank_one = new.down_proj - old.down_proj
    s = np.linalg.svd(rank_one, compute_uv=False)
    assert s[1] <= 1e-10 * s[0]  # a rank-one update
    # h = F + 8 > F: C's pseudo-inverse makes the update vanish on every other fact's hidden activation
    # (K^T C^+ K = F I for the F x h activation matrix K of full row rank)
    others = np.setdiff1d(np.arange(F), idx)
    delta = new(fs.keys[others]) - old(fs.keys[others])
    assert np.abs(delta).max() <= 1e-6 * np.abs(old(fs.keys)).max()
    assert np.abs(new(fs.keys[idx]) - old(fs.keys[idx])).max() > 1e-3  # ... but not on the edited one
    assert info["targets_reached"] == 1 and info["covariance_rank"] == F


def test_rome_with_generic_covariance_interferes(setup):
    model, facts = setup
    after, idx = choose_edits(facts, 0.02, seed=3)
    rng = np.random.default_rng(0)
    generic = rng.integers(0, V, size=(400, 2))  # C from random prompts, as ROME estimates it on text
    new, info = rome_edit(model, after, idx, covariance_prompts=generic)
    fs = fact_keys_values(model, after)
    old = model.get_mlp()
    others = np.setdiff1d(np.arange(F), idx)
    assert np.abs(new(fs.keys[others]) - old(fs.keys[others])).max() > 1e-6  # no longer exactly local
    assert info["covariance"] == "400 prompts"


def test_finetune_zero_steps_is_identity_and_training_lowers_loss(setup):
    model, facts = setup
    after, idx = choose_edits(facts, 0.1, seed=4)
    same, info0 = finetune_edit(model, after, idx, steps=0)
    assert np.array_equal(same.down_proj, model.get_mlp().down_proj)
    _, info1 = finetune_edit(model, after, idx, steps=5, lr=1e-3)
    _, info2 = finetune_edit(model, after, idx, steps=60, lr=1e-3)
    assert info2["final_loss"] < info1["final_loss"]
    with pytest.raises(InvalidInputError):
        finetune_edit(model, after, idx, loss_on="some")


def test_run_edit_validates(setup):
    model, facts = setup
    after, idx = choose_edits(facts, 0.1, seed=5)
    with pytest.raises(InvalidInputError):
        run_edit(model, facts, after, idx, "memit")
    with pytest.raises(InvalidInputError):  # a changed fact outside the edited indices
        run_edit(model, facts, after, idx[:1], "rome")
    other = make_fact_queries(V, F, seed=99, n_relations=4)
    with pytest.raises(InvalidInputError):
        run_edit(model, facts, other, idx, "rome")
