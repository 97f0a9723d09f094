"""``factmlp.polish``: repairs failing facts and never loses a certified one."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import factmlp
from factmlp import construct, make_factset, verify_storage
from factmlp.cli import main
from factmlp.errors import InvalidInputError, ShapeError
from factmlp.mlp import GatedMLP, load_mlp
from factmlp.polish import certified_set, polish
from factmlp.testing import fact_sets

TINY = {"rounds": 1, "inner_iters": 30, "joint_iters": 60}


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(
    fs=fact_sets(d=st.integers(3, 6), facts=st.integers(4, 14), min_rho=1e-3),
    hidden=st.integers(1, 4),
    wseed=st.integers(0, 2**16),
    scale=st.sampled_from([0.3, 1.0, 3.0]),
    act=st.sampled_from(["silu", "relu", "identity"]),
)
def test_polish_never_uncertifies_a_certified_fact(fs, hidden, wseed, scale, act):
    rng = np.random.default_rng(wseed)
    d = fs.dim
    mlp = GatedMLP(
        scale * rng.standard_normal((hidden, d)),
        scale * rng.standard_normal((hidden, d)),
        scale * rng.standard_normal((d, hidden)),
        act,
    )
    before = certified_set(verify_storage(mlp, fs))
    out, report = polish(mlp, fs, seed=0, **TINY)
    after = certified_set(verify_storage(out, fs))
    assert after == certified_set(report)
    assert before <= after, f"lost {sorted(before - after)}"


def test_polish_repairs_an_undersized_construction():
    fs = make_factset("spherical", d=16, facts=128, seed=3)
    c = construct(fs, "hebbian", hidden=40, seed=0)
    before = verify_storage(c.mlp, fs)
    assert 0 < before.stored < 128
    out, report = factmlp.polish(c.mlp, fs, seed=0)
    assert report.certified and verify_storage(out, fs).certified
    assert out.hidden == 40 and out.meta["polish_stored_before"] == str(before.stored)


def test_a_certified_mlp_comes_back_unchanged():
    fs = make_factset("spherical", d=8, facts=24, seed=1)
    c = construct(fs, "margin", seed=0)
    out, report = polish(c.mlp, fs, seed=0)
    assert report.certified
    assert out.up_proj.tobytes() == c.mlp.up_proj.astype(np.float64).tobytes()


def test_dead_units_are_revived_without_changing_the_verdict():
    fs = make_factset("spherical", d=8, facts=32, seed=2)
    c = construct(fs, "margin", hidden=4, seed=0, joint_iters=0, rounds=1, partial=True)
    pad = lambda a, axis: np.concatenate([a, np.zeros_like(a)], axis=axis)  # noqa: E731
    wide = GatedMLP(pad(c.mlp.gate_proj, 0), pad(c.mlp.up_proj, 0), pad(c.mlp.down_proj, 1), "silu")
    out, report = polish(wide, fs, seed=0, **TINY)
    assert int(out.meta["polish_revived_units"]) == 4
    assert certified_set(verify_storage(c.mlp, fs)) <= certified_set(report)


def test_bad_input_is_refused():
    fs = make_factset("spherical", d=8, facts=16, seed=0)
    other = make_factset("spherical", d=6, facts=16, seed=0)
    c = construct(other, "margin", seed=0)
    with pytest.raises(ShapeError, match="d = 6"):
        polish(c.mlp, fs)
    with pytest.raises(InvalidInputError, match="GatedMLP"):
        polish(np.zeros((3, 3)), fs)
    with pytest.raises(InvalidInputError, match="activation"):
        polish(c.mlp, other, activation="relu")


def test_cli_construct_polish(tmp_path):
    fs = make_factset("spherical", d=16, facts=128, seed=3)
    fs.save(tmp_path / "fs.npz")
    out = tmp_path / "w.safetensors"
    res = CliRunner().invoke(
        main,
        [
            "construct",
            str(tmp_path / "fs.npz"),
            "--method",
            "hebbian",
            "--hidden",
            "40",
            "--polish",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["polish"]["stored_before"] < doc["polish"]["stored_after"] == doc["stored"] == 128
    assert verify_storage(load_mlp(out), fs).certified


def test_the_guard_matters_unguarded_steps_lose_facts():
    """The mutant the property must catch: the same steps without the acceptance rule lose certified facts."""
    from factmlp.constructions.margin import margin_fit, margin_options

    lost = 0
    for s in range(6):
        fs = make_factset("gaussian", d=5, facts=12, seed=s)
        rng = np.random.default_rng(s)
        mlp = GatedMLP(rng.standard_normal((2, 5)), rng.standard_normal((2, 5)), rng.standard_normal((5, 2)), "silu")
        before = certified_set(verify_storage(mlp, fs))
        W = {"gate": mlp.gate_proj.copy(), "up": mlp.up_proj.copy(), "down": mlp.down_proj.copy()}
        _, unguarded, _ = margin_fit(fs, W, margin_options(**TINY))
        lost += not before <= certified_set(unguarded)
        _, guarded = polish(mlp, fs, seed=0, **TINY)
        assert before <= certified_set(guarded)
    assert lost >= 1
