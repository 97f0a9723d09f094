"""Gradient descent as a construction method (factmlp.constructions.gd)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from factmlp import make_factset
from factmlp.constructions import METHODS, construct
from factmlp.constructions.gd import gd_default_hidden
from factmlp.errors import InvalidInputError


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_import_does_not_import_torch():
    res = _run("import sys, factmlp.constructions.gd, factmlp.constructions; print('torch' in sys.modules)")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"


def test_without_torch_raises_torch_unavailable():
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import factmlp\n"
        "from factmlp.constructions import construct\n"
        "from factmlp.errors import TorchUnavailableError\n"
        "fs = factmlp.make_factset('spherical', d=8, facts=8, seed=0)\n"
        "try:\n"
        "    construct(fs, 'gd', hidden=4, seed=0, steps=1)\n"
        "except TorchUnavailableError as e:\n"
        "    print('unavailable:', e)\n"
    )
    res = _run(code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("unavailable:") and "torch" in res.stdout


@pytest.mark.parametrize("d, F, N", [(8, 64, 64), (16, 64, 32), (32, 512, 512), (8, 3, 3)])
def test_default_width_rule(d, F, N):
    fs = make_factset("spherical", d=d, facts=F, values=N, seed=0)
    expected = max(4, math.ceil(F * math.log2(N) / (3 * d)))
    assert gd_default_hidden(fs) == expected
    assert METHODS["gd"].default_hidden(fs) == expected
    assert not METHODS["gd"].guarantees(fs)
    assert METHODS["gd"].needs_torch


def test_unknown_option_is_invalid_input():
    fs = make_factset("spherical", d=8, facts=16, seed=0)
    with pytest.raises(InvalidInputError):
        construct(fs, "gd", hidden=4, seed=0, learning_rate=0.1)


def test_bad_option_value_is_invalid_input():
    pytest.importorskip("torch")
    fs = make_factset("spherical", d=8, facts=16, seed=0)
    with pytest.raises(InvalidInputError):
        construct(fs, "gd", hidden=4, seed=0, lr=-1.0, verify=False)
    with pytest.raises(InvalidInputError):
        construct(fs, "gd", hidden=4, seed=0, steps=-3, verify=False)


def test_shape_counts_and_determinism():
    pytest.importorskip("torch")
    fs = make_factset("spherical", d=8, facts=24, seed=1)
    opts = dict(steps=30, check_every=10, verify=False)
    a = construct(fs, "gd", hidden=6, seed=3, **opts)
    b = construct(fs, "gd", hidden=6, seed=3, **opts)
    assert a.hidden == 6 and a.mlp.hidden == 6 and a.mlp.dim == 8
    assert a.params == 3 * 8 * 6 == a.param_bound
    assert a.theory_hidden == gd_default_hidden(fs)
    assert a.info["steps"] <= 30 and a.info["total"] == 24
    for x, y in (
        (a.mlp.gate_proj, b.mlp.gate_proj),
        (a.mlp.up_proj, b.mlp.up_proj),
        (a.mlp.down_proj, b.mlp.down_proj),
    ):
        assert np.array_equal(x, y)
    c = construct(fs, "gd", hidden=6, seed=4, **opts)
    assert not np.array_equal(c.mlp.gate_proj, a.mlp.gate_proj)


def test_default_width_run_reports_certified_storage():
    pytest.importorskip("torch")
    verify = pytest.importorskip("factmlp.verify")
    fs = make_factset("spherical", d=8, facts=16, seed=2)
    c = construct(fs, "gd", seed=0, steps=300, check_every=25)
    assert c.hidden == gd_default_hidden(fs)
    rep = verify.verify_storage(c.mlp, fs)
    assert c.info["stored"] == rep.stored and c.info["certified"] == bool(rep.certified)
