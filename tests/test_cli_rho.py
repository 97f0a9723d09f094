"""``factmlp rho``: JSON contract and exit codes 0 / 1 / 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from factmlp.cli import main
from factmlp.decodability import decodability
from factmlp.factset import FactSet
from factmlp.families import make_factset


def _run(*args):
    return CliRunner().invoke(main, ["rho", *map(str, args)])


def test_feasible_json(tmp_path):
    fs = make_factset("spherical", 6, 40, 30, seed=1)
    path = tmp_path / "fs.npz"
    fs.save(path)
    res = _run(path, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert list(out) == ["rho", "rho_per_value", "feasible", "infeasible_values"]
    assert out["feasible"] is True and out["infeasible_values"] == []
    assert len(out["rho_per_value"]) == fs.n_values
    used = set(fs.used_values.tolist())
    for j, r in enumerate(out["rho_per_value"]):
        assert (r is None) == (j not in used)
    ref = decodability(fs.values, fs.used_values)
    assert out["rho"] == pytest.approx(ref.rho, rel=1e-12)
    assert out["rho"] == pytest.approx(min(r for r in out["rho_per_value"] if r is not None), rel=1e-12)


def test_infeasible_exit_1(tmp_path):
    v = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.2, 0.2], [1.0, 0.0]])
    fs = FactSet(np.eye(2)[[0, 1, 0, 1]], v, np.array([0, 3, 4, 2]))
    path = tmp_path / "bad.npz"
    fs.save(path)
    res = _run(path, "--json")
    assert res.exit_code == 1, res.output
    out = json.loads(res.output)
    assert out["feasible"] is False and out["rho"] == 0.0
    got = {p["value"]: p["reason"] for p in out["infeasible_values"]}
    assert got == {3: "inside_hull", 4: "duplicate"}
    human = _run(path)
    assert human.exit_code == 1 and "INFEASIBLE" in human.output and "duplicate of value 1" in human.output


def test_human_output(tmp_path):
    path = tmp_path / "fs.npz"
    make_factset("spherical", 4, 10, 10, seed=0).save(path)
    res = _run(path, "--tol", "1e-6")
    assert res.exit_code == 0 and "rho(V)" in res.output and "feasible" in res.output


def test_bad_input_exit_2(tmp_path):
    res = _run(tmp_path / "missing.npz", "--json")
    assert res.exit_code == 2
    assert res.output.startswith("factmlp: error:") and "missing.npz" in res.output
    assert res.output.count("\n") == 1  # one line, no partial JSON
    p = tmp_path / "nan.npz"
    np.savez(p, keys=np.eye(2), values=np.array([[0.0, np.nan], [1.0, 0.0]]), mapping=np.array([0, 1]))
    res = _run(p, "--json")
    assert res.exit_code == 2 and "NaN" in res.output and "{" not in res.output
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    assert _run(junk).exit_code == 2
    good = tmp_path / "fs.npz"
    make_factset("spherical", 4, 10, 10, seed=0).save(good)
    assert _run(good, "--tol", "2").exit_code == 2


def test_workers_same_answer(tmp_path):
    fs = make_factset("spherical", 6, 40, 30, seed=2)
    path = tmp_path / "fs.npz"
    fs.save(path)
    one, two = _run(path, "--json"), _run(path, "--json", "--workers", "2")
    assert one.exit_code == two.exit_code == 0, two.output
    assert json.loads(two.output)["rho"] == pytest.approx(json.loads(one.output)["rho"], rel=1e-12)
    assert _run(path, "--workers", "0").exit_code == 2
