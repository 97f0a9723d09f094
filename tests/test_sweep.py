"""Sweeps: configurations, the resumable cache, the CSV, Dask vs serial, and the CLI.

Runs use a fake storing method registered from a small module written to a
temporary directory (so Dask worker processes can import it too, through
``preload``): gate rows e_a, up rows e_b (identity activation) give the d^2
quadratic features; a least-squares readout interpolates F <= d(d+1)/2
generic facts, so the method stores everything exactly from width d^2 on
when the values have unit norm (spherical and tied families).
"""

from __future__ import annotations

import csv
import importlib
import json
import os
import sys
import textwrap
from fractions import Fraction

import pytest
from click.testing import CliRunner

from factmlp.errors import InvalidInputError
from factmlp.sweep import (
    COLUMNS,
    TIMING_COLUMNS,
    config_hash,
    facts_for,
    factset_configs,
    grid_configs,
    parse_fraction,
    read_results,
    run_sweep,
)

FAKE = "_test_quadratic_sweep"
MODULE = "factmlp_test_fake_sweep_method"

_SOURCE = textwrap.dedent(
    f'''
    import numpy as np
    from factmlp.constructions import METHODS, register_method
    from factmlp.mlp import GatedMLP

    def _builder(factset, hidden, seed=0, **_):
        d = factset.dim
        gate = np.zeros((hidden, d)); up = np.zeros((hidden, d)); down = np.zeros((d, hidden))
        if hidden >= d * d:
            a, b = np.divmod(np.arange(d * d), d)
            gate[np.arange(d * d), a] = 1.0
            up[np.arange(d * d), b] = 1.0
            phi = factset.keys[:, a] * factset.keys[:, b]
            w, *_ = np.linalg.lstsq(phi, factset.targets, rcond=None)
            down[:, : d * d] = w.T
        return GatedMLP(gate, up, down, activation="identity")

    if "{FAKE}" not in METHODS:
        register_method("{FAKE}", _builder, default_hidden=16)
    '''
)


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    constructions = pytest.importorskip("factmlp.constructions")
    pytest.importorskip("factmlp.verify")
    d = tmp_path_factory.mktemp("fake_method")
    (d / f"{MODULE}.py").write_text(_SOURCE)
    sys.path.insert(0, str(d))
    importlib.import_module(MODULE)
    yield FAKE
    sys.path.remove(str(d))
    sys.modules.pop(MODULE, None)
    if isinstance(constructions.METHODS, dict):
        constructions.METHODS.pop(FAKE, None)


def _strip(rows):
    return [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in rows]


# ---------------------------------------------------------------- configs ----


def test_fractions_and_facts():
    assert parse_fraction("1/32") == Fraction(1, 32)
    assert parse_fraction("0.25") == Fraction(1, 4)
    assert facts_for(Fraction(1, 2), 3) == 5  # 4.5 rounds half up
    assert facts_for(Fraction(1, 32), 64) == 128
    for bad in ("0", "-1/2", "abc", "1/0"):
        with pytest.raises(InvalidInputError):
            parse_fraction(bad)


def test_grid_configs_and_hash():
    cfgs = grid_configs(["spherical", "gaussian"], [4, 8], ["1/4", "1/2"], ["a", "b"], 3)
    assert len(cfgs) == 2 * 2 * 2 * 2 * 3
    assert all(c["N"] == c["F"] == facts_for(Fraction(c["alpha"]), c["d"]) for c in cfgs)
    hashes = {config_hash(c) for c in cfgs}
    assert len(hashes) == len(cfgs)
    c = dict(cfgs[0])
    assert config_hash(c) == config_hash(json.loads(json.dumps(c)))
    c2 = dict(c, factset="/elsewhere/x.npz")
    assert config_hash(c2) == config_hash(c)  # path is not part of the key
    with pytest.raises(InvalidInputError, match="unknown family"):
        grid_configs(["nope"], [4], ["1/2"], ["a"], 1)
    with pytest.raises(InvalidInputError, match="F >= 2"):
        grid_configs(["spherical"], [2], ["1/32"], ["a"], 1)


# --------------------------------------------------------- serial + cache ----


def test_serial_sweep_cache_and_resume(fake, tmp_path):
    out = str(tmp_path / "res")
    cfgs = grid_configs(["spherical"], [3, 4], ["1/4", "1/2"], [FAKE], 2)
    rep = run_sweep(cfgs, out, progress=False)
    assert rep.n_run == len(cfgs) and rep.n_cached == 0 and rep.n_errors == 0
    assert all(r["status"] == "ok" for r in rep.rows)
    for r in rep.rows:
        assert r["h_star"] == r["d"] ** 2
        assert r["params"] == 3 * r["d"] * r["h_star"]
        assert r["rho"] > 0
    assert len(os.listdir(os.path.join(out, "cache"))) == len(cfgs)
    csv_rows = read_results(out)
    assert len(csv_rows) == len(cfgs)
    with open(os.path.join(out, "results.csv")) as fh:
        assert next(csv.reader(fh)) == list(COLUMNS)
    keys = [(r["d"], Fraction(r["alpha"]), r["seed"]) for r in csv_rows]
    assert keys == sorted(keys)
    assert [r["h_star"] for r in csv_rows] == [r["h_star"] for r in rep.rows]

    # resume: nothing to run; then drop one cache entry and only it reruns
    rep2 = run_sweep(cfgs, out, progress=False)
    assert rep2.n_run == 0 and rep2.n_cached == len(cfgs)
    assert _strip(rep2.rows) == _strip(rep.rows)
    os.remove(os.path.join(out, "cache", config_hash(cfgs[3]) + ".json"))
    rep3 = run_sweep(cfgs, out, progress=False)
    assert rep3.n_run == 1 and rep3.n_cached == len(cfgs) - 1
    assert _strip(rep3.rows) == _strip(rep.rows)


def test_errors_are_recorded_and_retried(fake, tmp_path):
    out = str(tmp_path / "res")
    cfgs = grid_configs(["spherical"], [4], ["1/2"], ["_no_such_method_"], 1)
    rep = run_sweep(cfgs, out, progress=False)
    assert rep.n_errors == 1 and rep.rows[0]["status"] == "error" and rep.rows[0]["error"]
    rep2 = run_sweep(cfgs, out, progress=False)
    assert rep2.n_run == 1  # errored runs are not trusted from the cache


def test_factset_files(fake, tmp_path):
    from factmlp.families import make_factset

    d = tmp_path / "sets"
    d.mkdir()
    make_factset("spherical", 4, 6, 6, seed=1).save(str(d / "a.npz"))
    make_factset("spherical", 3, 5, 5, seed=2).save(str(d / "b.npz"))
    cfgs = factset_configs([str(d)], [FAKE], 1)
    assert [c["family"] for c in cfgs] == ["file:a.npz", "file:b.npz"]
    rep = run_sweep(cfgs, str(tmp_path / "res"), progress=False)
    assert [r["h_star"] for r in rep.rows] == [16, 9]
    with pytest.raises(InvalidInputError):
        factset_configs([str(tmp_path / "missing")], [FAKE], 1)


# ------------------------------------------------------------------- dask ----


def test_dask_local_cluster_matches_serial(fake, tmp_path):
    pytest.importorskip("dask.distributed")
    from dask.distributed import Client, LocalCluster

    cfgs = grid_configs(["spherical", "tied"], [3, 4], ["1/2"], [FAKE], 2)
    serial = run_sweep(cfgs, str(tmp_path / "serial"), progress=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            dist = run_sweep(cfgs, str(tmp_path / "dask"), client=client, preload=(MODULE,), progress=False)
    assert dist.n_errors == 0, dist.errors
    assert _strip(dist.rows) == _strip(serial.rows)
    assert _strip(read_results(str(tmp_path / "dask"))) == _strip(read_results(str(tmp_path / "serial")))


# -------------------------------------------------------------------- CLI ----


def _cli():
    from factmlp.cli import main

    return main


@pytest.mark.parametrize(
    "args, message",
    [
        (["--alpha", "1/0"], "alpha"),
        (["--alpha", "-1"], "alpha"),
        (["--families", "bogus"], "unknown family"),
        (["--methods", "no_such_method"], "unknown method"),
    ],
)
def test_cli_bad_input_exit_2(fake, tmp_path, args, message):
    res = CliRunner().invoke(
        _cli(), ["capacity", "--out", str(tmp_path / "o"), "--d", "4", "--methods", FAKE, "--no-progress", *args]
    )
    assert res.exit_code == 2, res.output
    err = res.stderr if hasattr(res, "stderr") else res.output
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_capacity_and_plot(fake, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "o"
    res = CliRunner().invoke(
        _cli(),
        [
            "capacity",
            "--families",
            "spherical,tied",
            "--d",
            "3,4",
            "--alpha",
            "1/4,1/2",
            "--methods",
            FAKE,
            "--seeds",
            "1",
            "--preload",
            MODULE,
            "--out",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["runs"] == 8 and summary["ok"] == 8 and summary["ran"] == 8
    res = CliRunner().invoke(_cli(), ["plot", str(out), "--out", str(tmp_path / "figs"), "--json"])
    assert res.exit_code == 0, res.output
    figs = json.loads(res.stdout)["figures"]
    assert len(figs) == 6 and all(os.path.getsize(p) > 0 for p in figs)
