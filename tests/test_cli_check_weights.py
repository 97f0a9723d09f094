"""``factmlp check-weights``: JSON contract and exit codes 0 / 1 / 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from factmlp.cli import main
from factmlp.factset import FactSet
from factmlp.mlp import GatedMLP
from factmlp.verify import verify_storage


def _run(*args):
    return CliRunner().invoke(main, ["check-weights", *map(str, args)])


def _permutation_case(tmp_path, d=5, act="relu", swap=False):
    f = np.array([2, 0, 4, 1, 3])[:d]
    down = np.eye(d)[f].T
    if swap:
        down = down[:, [1, 0, 2, 3, 4]]
    fs = FactSet(np.eye(d), np.eye(d), f)
    mlp = GatedMLP(np.eye(d), np.eye(d), down, act)
    fpath, wpath = tmp_path / "fs.npz", tmp_path / "w.safetensors"
    fs.save(fpath)
    mlp.save(wpath)
    return fs, mlp, fpath, wpath


def test_all_stored_json_exit_0(tmp_path):
    fs, mlp, fpath, wpath = _permutation_case(tmp_path, act="silu")
    res = _run(fpath, wpath, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert list(out) == ["stored", "total", "min_margin", "certified", "failing"]
    assert out == {
        "stored": 5,
        "total": 5,
        "min_margin": pytest.approx(1 / (1 + np.exp(-1.0)), rel=1e-14),
        "certified": True,
        "failing": [],
    }


def test_not_stored_exit_1_matches_library(tmp_path):
    fs, mlp, fpath, wpath = _permutation_case(tmp_path, swap=True)
    res = _run(fpath, wpath, "--json", "--batch-size", "2")
    assert res.exit_code == 1, res.output
    out = json.loads(res.output)
    rep = verify_storage(mlp, fs)
    assert out == rep.to_dict()
    assert out["failing"] == [0, 1] and out["stored"] == 3 and out["certified"] is False
    assert out["min_margin"] == -1.0


def test_random_mlp_json_matches_library(tmp_path):
    rng = np.random.default_rng(0)
    fs = FactSet(rng.standard_normal((30, 4)), rng.standard_normal((6, 4)), rng.integers(0, 6, 30))
    mlp = GatedMLP(
        rng.standard_normal((8, 4)).astype(np.float32),
        rng.standard_normal((8, 4)).astype(np.float32),
        rng.standard_normal((4, 8)).astype(np.float32),
        "gelu",
    )
    fs.save(tmp_path / "fs.npz")
    mlp.save(tmp_path / "w.safetensors")
    res = _run(tmp_path / "fs.npz", tmp_path / "w.safetensors", "--json")
    out = json.loads(res.output)
    rep = verify_storage(mlp, fs)
    assert out["failing"] == rep.failing.tolist() and out["stored"] == rep.stored
    assert res.exit_code == (0 if rep.certified else 1)
    assert 0 < rep.stored < 30  # a random MLP stores some facts and not others


def test_human_output(tmp_path):
    _, _, fpath, wpath = _permutation_case(tmp_path, swap=True)
    res = _run(fpath, wpath)
    assert res.exit_code == 1
    assert "stored 3/5" in res.output and "NOT all facts certified stored" in res.output
    assert "failing facts: [0, 1]" in res.output
    _, _, fpath, wpath = _permutation_case(tmp_path)
    res = _run(fpath, wpath)
    assert res.exit_code == 0 and "stored 5/5: all facts certified stored" in res.output


def test_cap_note_in_human_output(tmp_path):
    a = 1.1
    gate = np.zeros((2, 2))
    gate[:, 0] = [a, np.nextafter(a, 2.0)]
    up = np.zeros((2, 2))
    up[:, 0] = 1.0
    mlp = GatedMLP(gate, up, np.eye(2), "relu")
    fs = FactSet(np.array([[1.0, 0.0]] * 2), np.array([[-1.0, 1.0], [1.0, -1.0]]), np.array([0, 0]))
    fs.save(tmp_path / "fs.npz")
    mlp.save(tmp_path / "w.safetensors")
    ok = _run(tmp_path / "fs.npz", tmp_path / "w.safetensors", "--json")
    assert ok.exit_code == 0 and json.loads(ok.output)["stored"] == 2
    capped = _run(tmp_path / "fs.npz", tmp_path / "w.safetensors", "--max-recompute", "1")
    assert capped.exit_code == 1 and "note:" in capped.output and "stored 1/2" in capped.output
    js = _run(tmp_path / "fs.npz", tmp_path / "w.safetensors", "--max-recompute", "0", "--json")
    assert js.exit_code == 1 and json.loads(js.output)["failing"] == [0, 1]


def test_bad_input_exit_2(tmp_path):
    _, _, fpath, wpath = _permutation_case(tmp_path)
    res = _run(tmp_path / "missing.npz", wpath, "--json")
    assert res.exit_code == 2 and res.output.startswith("factmlp: error:") and "missing.npz" in res.output
    assert res.output.count("\n") == 1
    res = _run(fpath, tmp_path / "missing.safetensors")
    assert res.exit_code == 2 and "missing.safetensors" in res.output and res.output.count("\n") == 1
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not safetensors at all")
    assert _run(fpath, junk).exit_code == 2
    # d mismatch: a 3-dimensional fact set against the 5-dimensional MLP
    other = tmp_path / "d3.npz"
    FactSet(np.eye(3), np.eye(3), np.array([0, 1, 2])).save(other)
    res = _run(other, wpath, "--json")
    assert res.exit_code == 2 and "d=5" in res.output and "d=3" in res.output and "{" not in res.output
    assert res.output.count("\n") == 1
    assert _run(fpath, wpath, "--batch-size", "0").exit_code == 2
