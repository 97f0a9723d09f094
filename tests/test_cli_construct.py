"""``factmlp construct``: JSON contract, written weights checkable independently, exit codes."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from factmlp.cli import main
from factmlp.factset import FactSet
from factmlp.families import make_factset
from factmlp.mlp import load_mlp
from factmlp.verify import verify_storage


def _run(*args):
    return CliRunner().invoke(main, ["construct", *map(str, args)])


def test_encdec_json_and_weights(tmp_path):
    fs = make_factset("spherical", 8, 40, seed=0)
    fs.save(tmp_path / "fs.npz")
    out = tmp_path / "w.safetensors"
    res = _run(tmp_path / "fs.npz", "--method", "encdec", "--out", out, "--json", "--seed", 3)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert list(doc) == ["method", "hidden", "params", "params_factored", "stored", "total", "seconds"]
    assert doc["method"] == "encdec" and doc["stored"] == doc["total"] == 40
    assert doc["params"] == 3 * 8 * doc["hidden"]
    mlp = load_mlp(out)
    assert mlp.hidden == doc["hidden"] and verify_storage(mlp, fs).certified


def test_too_small_width_exits_1(tmp_path):
    fs = make_factset("spherical", 8, 64, seed=0)
    fs.save(tmp_path / "fs.npz")
    res = _run(tmp_path / "fs.npz", "--out", tmp_path / "w.safetensors", "--hidden", 8, "--json")
    assert res.exit_code == 1, res.output
    doc = json.loads(res.output)
    assert doc["stored"] < doc["total"]


def test_infeasible_exits_2_and_writes_nothing(tmp_path):
    fs = make_factset("spherical", 4, 10, seed=0)
    values = fs.values.copy()
    values[fs.mapping[0]] = 0.0
    FactSet(fs.keys, values, fs.mapping).save(tmp_path / "bad.npz")
    out = tmp_path / "w.safetensors"
    res = _run(tmp_path / "bad.npz", "--out", out)
    assert res.exit_code == 2
    assert "infeasible" in res.output and not out.exists()


def test_unknown_method_and_bad_width_exit_2(tmp_path):
    make_factset("spherical", 4, 10, seed=0).save(tmp_path / "fs.npz")
    assert _run(tmp_path / "fs.npz", "--out", tmp_path / "w", "--method", "nope").exit_code == 2
    assert _run(tmp_path / "fs.npz", "--out", tmp_path / "w", "--hidden", 0).exit_code == 2
    assert _run(tmp_path / "missing.npz", "--out", tmp_path / "w").exit_code == 2
