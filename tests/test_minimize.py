"""``factmlp.minimize``: the smallest certified width, never an uncertified result."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import factmlp.verify as verify_mod
from factmlp import construct, make_factset, verify_storage
from factmlp.errors import InvalidInputError, NoCertifiedWidthError
from factmlp.minimize import minimize
from factmlp.mlp import load_mlp

FAST = {"rounds": 2, "inner_iters": 60, "joint_iters": 200}  # margin's budget, small sets


@pytest.fixture(scope="module")
def fs():
    return make_factset("spherical", d=6, facts=24, values=24, seed=2)


@pytest.fixture(scope="module")
def result(fs):
    return minimize(fs, "margin", seed=0, hi=24, **FAST)


def test_result_is_certified_and_reverifies_from_the_written_file(fs, result, tmp_path):
    assert result.method == "margin" and result.stored == result.total == fs.n_facts
    assert result.params == 3 * fs.dim * result.hidden == result.mlp.n_params
    assert result.bits_per_param == pytest.approx(fs.n_facts * np.log2(fs.n_values) / result.params)
    path = tmp_path / "w.safetensors"
    result.mlp.save(path)
    again = load_mlp(path)
    assert again.hidden == result.hidden
    report = verify_storage(again, fs)
    assert report.certified and report.stored == fs.n_facts
    assert set(result.to_json()) == {"method", "hidden", "params", "bits_per_param", "stored", "total", "seconds"}


def test_widths_below_were_probed_and_fail(fs, result):
    probed = {p.hidden: p for p in result.probes}
    assert probed[result.hidden].stored
    below = [h for h in range(result.hidden - 4, result.hidden) if h >= 1]
    assert below, "the test needs a width below the result"
    for h in below:  # the probe window: every width just below was probed and did not store
        assert h in probed and not probed[h].stored, (h, probed.get(h))
    # independently of minimize: width - 1 with the same seed is not certified
    h = result.hidden - 1
    try:
        c = construct(fs, "margin", hidden=h, seed=0, partial=True, **FAST)
    except InvalidInputError:
        return
    assert not verify_storage(c.mlp, fs).certified


def test_no_probed_width_below_the_result_stored(fs, result):
    assert all(not p.stored for p in result.probes if p.hidden < result.hidden)


def test_deterministic_under_seed(fs, result):
    again = minimize(fs, "margin", seed=0, hi=24, **FAST)
    assert again.hidden == result.hidden
    assert [(p.hidden, p.stored, p.n_stored) for p in again.probes] == [
        (p.hidden, p.stored, p.n_stored) for p in result.probes
    ]
    for a in ("gate_proj", "up_proj", "down_proj"):
        np.testing.assert_array_equal(np.asarray(getattr(again.mlp, a)), np.asarray(getattr(result.mlp, a)))


def test_mutant_verifier_rejecting_the_width_is_obeyed(fs, result, monkeypatch):
    real = verify_mod.verify_storage
    h0 = result.hidden

    def says_not_stored_at_h0(mlp, factset, **kw):
        rep = real(mlp, factset, **kw)
        if mlp.hidden != h0:
            return rep
        failing = np.arange(1, dtype=np.int64)
        return dataclasses.replace(rep, stored=rep.total - 1, certified=False, failing=failing)

    monkeypatch.setattr(verify_mod, "verify_storage", says_not_stored_at_h0)
    try:
        res = minimize(fs, "margin", seed=0, hi=24, **FAST)
    except NoCertifiedWidthError:
        return
    assert res.hidden != h0
    monkeypatch.setattr(verify_mod, "verify_storage", real)
    assert verify_storage(res.mlp, fs).certified


def test_mutant_verifier_rejecting_everything_raises(fs, monkeypatch):
    real = verify_mod.verify_storage

    def never(mlp, factset, **kw):
        rep = real(mlp, factset, **kw)
        return dataclasses.replace(rep, stored=0, certified=False, failing=np.arange(rep.total))

    monkeypatch.setattr(verify_mod, "verify_storage", never)
    with pytest.raises(NoCertifiedWidthError) as exc:
        minimize(fs, "hebbian", seed=0, hi=8)
    assert exc.value.indices and all(1 <= h <= 8 for h in exc.value.indices)


def test_nothing_in_range_raises_typed_error(fs):
    with pytest.raises(NoCertifiedWidthError, match=r"margin: no width in \[1, 2\]"):
        minimize(fs, "margin", seed=0, hi=2, **FAST)


def test_encdec_grid_and_polish_spec(fs):
    res = minimize(fs, "encdec", seed=0)
    assert verify_storage(res.mlp, fs).certified
    pol = minimize(fs, "hebbian", polish={"rounds": 1, "inner_iters": 30, "joint_iters": 60}, seed=0, hi=24)
    assert pol.method == "hebbian+polish" and verify_storage(pol.mlp, fs).certified


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"seed": np.random.default_rng(0)}, "seed"),
        ({"seed": -1}, "seed"),
        ({"seed": 0, "window": -1}, "window"),
        ({"seed": 0, "lo": 5, "hi": 4}, "lo <= hi"),
        ({"seed": 0, "lo": 0}, "lo"),
    ],
)
def test_bad_arguments(fs, kw, match):
    with pytest.raises(InvalidInputError, match=match):
        minimize(fs, "encdec", **kw)


def test_bad_spec_and_factset(fs):
    with pytest.raises(InvalidInputError, match="'nosuch'"):
        minimize(fs, "nosuch", seed=0)
    with pytest.raises(InvalidInputError, match="FactSet"):
        minimize("fs.npz", "encdec", seed=0)
