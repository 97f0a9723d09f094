"""The polish route: a method spec ``"M+polish"`` wherever a method name is accepted."""

from __future__ import annotations

import pytest

from factmlp import make_factset, verify_storage
from factmlp.capacity import min_width
from factmlp.constructions import METHODS, POLISH_SUFFIX, construct, method_label, resolve_method
from factmlp.errors import InvalidInputError

TINY = {"rounds": 1, "inner_iters": 30, "joint_iters": 60}


def test_spec_parsing():
    m, opts = resolve_method("encdec")
    assert m is METHODS["encdec"] and opts is None
    m, opts = resolve_method("gd" + POLISH_SUFFIX)
    assert m is METHODS["gd"] and opts == {}
    m, opts = resolve_method("encdec", polish={"rounds": 1})
    assert m is METHODS["encdec"] and opts == {"rounds": 1}
    assert resolve_method("hebbian", polish=True)[1] == {}
    assert method_label("hebbian", polish=True) == "hebbian+polish"
    assert method_label("margin+polish") == "margin+polish"
    assert METHODS["margin"].partial_options == {"partial": True}


@pytest.mark.parametrize(
    "spec", ["+polish", "gd+polish+polish", "nosuch+polish", "nosuch", "gd+whiten", "", "gd+Polish"]
)
def test_bad_specs_raise_typed_errors_naming_the_spec(spec):
    with pytest.raises(InvalidInputError) as exc:
        resolve_method(spec)
    assert repr(spec) in str(exc.value)


@pytest.mark.parametrize("bad", [None, 3, ["gd"]])
def test_non_string_spec(bad):
    with pytest.raises(InvalidInputError, match="method spec"):
        resolve_method(bad)


def test_bad_polish_argument():
    with pytest.raises(InvalidInputError, match="'encdec'"):
        resolve_method("encdec", polish="yes")
    assert resolve_method("encdec+polish", polish=False)[1] == {}  # False asks for nothing more


def test_construct_polish_records_report_and_never_loses_a_fact():
    fs = make_factset("spherical", d=6, facts=24, values=24, seed=3)
    plain = construct(fs, "hebbian", hidden=6, seed=1)
    before = verify_storage(plain.mlp, fs)
    c = construct(fs, "hebbian+polish", hidden=6, seed=1, polish=TINY)
    again = construct(fs, "hebbian", hidden=6, seed=1, polish=TINY)
    assert c.method == again.method == "hebbian+polish"
    assert c.polish is not None and c.to_dict()["polish"] == c.polish
    assert c.polish["stored_before"] == before.stored
    after = verify_storage(c.mlp, fs)
    assert c.polish["stored_after"] == after.stored >= before.stored
    assert c.hidden == 6 and c.params_factored is None
    assert plain.polish is None


def test_margin_polish_gets_the_uncertified_mlp_instead_of_raising():
    fs = make_factset("spherical", d=8, facts=64, values=64, seed=0)
    # far too small for margin to certify: plain margin raises, margin+polish returns what polish made
    c = construct(fs, "margin+polish", hidden=1, seed=0, rounds=1, inner_iters=5, joint_iters=5, polish=TINY)
    report = verify_storage(c.mlp, fs)
    assert c.polish["stored_after"] == report.stored < report.total


def test_gd_polish_in_a_tiny_capacity_search_is_certified():
    pytest.importorskip("torch")
    fs = make_factset("spherical", d=6, facts=16, values=16, seed=0)
    res = min_width(fs, "gd+polish", seed=0, lo=4, hi=24, steps=300, polish=TINY)
    assert res.method == "gd+polish"
    assert res.status == "ok" and res.h_star is not None
    # re-verify independently at the width found
    c = construct(fs, "gd+polish", hidden=res.h_star, seed=0, steps=300, polish=TINY)
    report = verify_storage(c.mlp, fs)
    assert report.certified and report.stored == report.total
    assert all(p.hidden >= 4 for p in res.probes)
    assert [p for p in res.probes if p.hidden == res.h_star][0].stored


def test_sweep_row_is_labelled_with_the_spec():
    from factmlp.sweep import grid_configs, run_one

    spec = "hebbian+polish"
    (config,) = grid_configs(["spherical"], [4], ["1/2"], [spec], 1, options={spec: {"hi": 16, "polish": TINY}})
    record = run_one(config)
    row = record["row"]
    assert row["method"] == spec and row.get("error") in (None, "")
    assert row["status"] == "ok"
    fs = make_factset("spherical", d=4, facts=int(row["F"]), values=int(row["N"]), seed=config["factset_seed"])
    c = construct(fs, spec, hidden=int(row["h_star"]), seed=config["seed"], polish=TINY)
    assert verify_storage(c.mlp, fs).certified


@pytest.mark.parametrize("spec, code", [("gd+polish+polish", 2), ("nosuch+polish", 2)])
def test_cli_capacity_rejects_bad_specs(tmp_path, spec, code):
    from click.testing import CliRunner

    from factmlp.cli import main

    res = CliRunner().invoke(main, ["capacity", "--out", str(tmp_path / "o"), "--d", "4", "--methods", spec])
    assert res.exit_code == code, res.output
    assert spec in (res.stderr if hasattr(res, "stderr") else res.output)
