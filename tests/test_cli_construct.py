"""``factmlp construct``: JSON contract, written weights checkable independently, exit codes."""

from __future__ import annotations

import json

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


def _sha256(path) -> str:
    import hashlib

    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_same_inputs_and_seed_give_byte_identical_files(tmp_path):
    """Outputs compare by hash: two runs (in-process and in fresh interpreters) write the same bytes."""
    import subprocess
    import sys

    fs = make_factset("spherical", 6, 24, seed=0)
    fs.save(tmp_path / "fs.npz")
    fs.save(tmp_path / "fs2.npz")
    assert _sha256(tmp_path / "fs.npz") == _sha256(tmp_path / "fs2.npz")
    for method in ("encdec", "hebbian"):
        paths = [tmp_path / f"{method}{i}.safetensors" for i in range(2)]
        for p in paths:
            assert _run(tmp_path / "fs.npz", "--method", method, "--seed", 5, "--out", p).exit_code in (0, 1)
        assert _sha256(paths[0]) == _sha256(paths[1]), method
    fresh = tmp_path / "fresh.safetensors"  # another interpreter (another hash seed)
    subprocess.run(
        [sys.executable, "-m", "factmlp", "construct", str(tmp_path / "fs.npz"), "--seed", "5", "--out", str(fresh)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert _sha256(fresh) == _sha256(tmp_path / "encdec0.safetensors")
    other = tmp_path / "seed6.safetensors"
    assert _run(tmp_path / "fs.npz", "--method", "hebbian", "--seed", 6, "--out", other).exit_code in (0, 1)
    assert _sha256(other) != _sha256(tmp_path / "hebbian0.safetensors")  # the seed does reach the bytes


def test_hidden_min_matches_minimize_and_is_certified(tmp_path):
    from factmlp.minimize import minimize

    fs = make_factset("spherical", 6, 24, seed=2)
    fs.save(tmp_path / "fs.npz")
    out = tmp_path / "w.safetensors"
    res = _run(tmp_path / "fs.npz", "--method", "encdec", "--hidden", "min", "--out", out, "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert list(doc) == ["method", "hidden", "params", "bits_per_param", "stored", "total", "seconds"]
    assert doc["stored"] == doc["total"] == 24 and doc["params"] == 3 * 6 * doc["hidden"]
    mlp = load_mlp(out)
    assert mlp.hidden == doc["hidden"] and verify_storage(mlp, fs).certified
    assert minimize(fs, "encdec", seed=0).hidden == doc["hidden"]
    # the minimize command writes the same bytes
    out2 = tmp_path / "w2.safetensors"
    res2 = CliRunner().invoke(main, ["minimize", str(tmp_path / "fs.npz"), "--method", "encdec", "--out", str(out2)])
    assert res2.exit_code == 0, res2.output
    assert out.read_bytes() == out2.read_bytes()


def test_hidden_min_none_certified_exits_1_and_writes_nothing(tmp_path, monkeypatch):
    import dataclasses

    import numpy as np

    import factmlp.verify as verify_mod

    real = verify_mod.verify_storage

    def never(mlp, factset, **kw):
        rep = real(mlp, factset, **kw)
        return dataclasses.replace(rep, stored=0, certified=False, failing=np.arange(rep.total))

    monkeypatch.setattr(verify_mod, "verify_storage", never)
    fs = make_factset("spherical", 4, 8, seed=0)
    fs.save(tmp_path / "fs.npz")
    out = tmp_path / "w.safetensors"
    res = _run(tmp_path / "fs.npz", "--method", "hebbian", "--hidden", "min", "--out", out)
    assert res.exit_code == 1, res.output
    assert "no width" in res.output and not out.exists()


def test_hidden_bad_values_exit_2(tmp_path):
    fs = make_factset("spherical", 4, 8, seed=0)
    fs.save(tmp_path / "fs.npz")
    for bad in ("abc", "0", "max"):
        res = _run(tmp_path / "fs.npz", "--hidden", bad, "--out", tmp_path / "w.safetensors")
        assert res.exit_code == 2, (bad, res.output)
    res = CliRunner().invoke(
        main, ["minimize", str(tmp_path / "fs.npz"), "--method", "x+polish", "--out", str(tmp_path / "w.safetensors")]
    )
    assert res.exit_code == 2 and "'x+polish'" in res.output
