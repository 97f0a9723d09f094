"""Gradient-descent baseline (factmlp.train): storage, stopping, determinism, errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from factmlp.errors import InvalidInputError
from factmlp.families import make_factset
from factmlp.testing import float_margins

torch = pytest.importorskip("torch")

from factmlp.train import min_width_gd, train_gd  # noqa: E402


@pytest.fixture(scope="module")
def small():
    return make_factset("spherical", d=8, facts=48, seed=3)


def test_stores_all_facts_at_generous_width(small):
    from factmlp.verify import verify_storage

    mlp, info = train_gd(small, 32, seed=0, steps=400, check_every=25)
    assert info["certified"] is True
    assert info["stored"] == info["total"] == small.n_facts
    # stopped early, at a check, under the budget
    assert 0 < info["steps"] < 400 and info["steps"] % 25 == 0
    assert mlp.hidden == 32 and mlp.dim == 8 and mlp.activation == "silu"
    assert info["params"] == mlp.n_params == 3 * 8 * 32
    # independent confirmation from the returned weights
    report = verify_storage(mlp, small)
    assert int(report.stored) == small.n_facts
    assert (float_margins(mlp(small.keys.astype(np.float64)), small) > 0).all()


def test_minibatch_stores_too(small):
    mlp, info = train_gd(small, 32, seed=1, steps=600, batch_size=16, check_every=30)
    assert info["certified"] and info["batch_size"] == 16
    assert (float_margins(mlp(small.keys.astype(np.float64)), small) > 0).all()


@pytest.mark.parametrize("batch_size", [None, 12])
def test_deterministic_under_seed(small, batch_size):
    kw = dict(steps=60, check_every=20, batch_size=batch_size)
    a, ia = train_gd(small, 6, seed=7, **kw)
    b, ib = train_gd(small, 6, seed=7, **kw)
    c, _ = train_gd(small, 6, seed=8, **kw)
    for name in ("gate_proj", "up_proj", "down_proj"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert ia["steps"] == ib["steps"] and ia["loss"] == ib["loss"]
    assert not np.array_equal(a.gate_proj, c.gate_proj)


def test_numpy_generator_seed_is_reproducible(small):
    a, _ = train_gd(small, 4, seed=np.random.default_rng(5), steps=20)
    b, _ = train_gd(small, 4, seed=np.random.default_rng(5), steps=20)
    assert np.array_equal(a.down_proj, b.down_proj)


def test_too_small_width_does_not_claim_storage():
    fs = make_factset("spherical", d=8, facts=64, seed=4)
    mlp, info = train_gd(fs, 1, seed=0, steps=200)
    assert info["certified"] is False
    assert info["stored"] < info["total"] == 64
    assert info["steps"] == 200
    # the reported count is the returned weights' count
    assert info["stored"] == int((float_margins(mlp(fs.keys.astype(np.float64)), fs) > 0).sum())


def test_global_determinism_flag_restored(small):
    before = torch.are_deterministic_algorithms_enabled()
    train_gd(small, 2, seed=0, steps=3)
    assert torch.are_deterministic_algorithms_enabled() == before


def test_zero_steps_and_float64(small):
    mlp, info = train_gd(small, 3, seed=0, steps=0, dtype="float64")
    assert info["steps"] == 0 and mlp.dtype == np.float64
    assert info["stored"] == int((float_margins(mlp(small.keys.astype(np.float64)), small) > 0).sum())


def test_verify_false_uses_float_check(small):
    mlp, info = train_gd(small, 32, seed=0, steps=400, verify=False)
    assert info["certified"] is False and info["verified"] is False
    assert info["stored"] == small.n_facts == int((float_margins(mlp(small.keys.astype(np.float64)), small) > 0).sum())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hidden": 0},
        {"hidden": -3},
        {"hidden": 2.0},
        {"hidden": True},
        {"steps": -1},
        {"check_every": 0},
        {"batch_size": 0},
        {"lr": 0.0},
        {"lr": float("nan")},
        {"logit_scale": -1.0},
        {"init_scale": 0.0},
        {"activation": "tanh"},
        {"dtype": "int32"},
        {"dtype": "float16"},
        {"seed": None},
        {"seed": "zero"},
        {"verify": "yes"},
    ],
)
def test_bad_arguments_raise_typed_errors(small, kwargs):
    args = {"hidden": 4, **kwargs}
    hidden = args.pop("hidden")
    with pytest.raises(InvalidInputError):
        train_gd(small, hidden, **args)


def test_bad_factset_type():
    with pytest.raises(InvalidInputError, match="FactSet"):
        train_gd({"keys": np.zeros((2, 2))}, 4)
    with pytest.raises(InvalidInputError, match="FactSet"):
        min_width_gd(np.zeros((3, 3)))


def test_min_width_search_records_every_run():
    fs = make_factset("spherical", d=8, facts=32, seed=2)
    res = min_width_gd(fs, seed=0, steps=300, check_every=25)
    assert res["found"]
    h = res["hidden"]
    assert res["params"] == 3 * 8 * h
    by_width = {r["hidden"]: r for r in res["runs"]}
    assert len(by_width) == len(res["runs"])  # each width trained once
    assert by_width[h]["all_stored"] and by_width[h]["certified"]
    # every probed width below h* failed, every probed width above stored (as searched)
    assert all(not r["all_stored"] for w, r in by_width.items() if w < h)
    if h > 1:
        assert h - 1 in by_width  # the bracket is tight
    # the found width reproduces
    _, info = train_gd(fs, h, seed=0, steps=300, check_every=25)
    assert info["certified"]


def test_min_width_bad_range(small):
    with pytest.raises(InvalidInputError):
        min_width_gd(small, lo=5, hi=4)
    with pytest.raises(InvalidInputError):
        min_width_gd(small, lo=0)


def test_import_without_torch_then_typed_error_on_call():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["torch"] = None  # makes `import torch` fail
        import factmlp.train as t
        from factmlp.errors import TorchUnavailableError
        from factmlp.families import make_factset
        fs = make_factset("spherical", d=4, facts=8, seed=0)
        try:
            t.train_gd(fs, 2)
        except TorchUnavailableError as e:
            assert "PyTorch" in str(e), e
        else:
            raise SystemExit("no error")
        try:
            import factmlp.torch_mlp
        except TorchUnavailableError:
            pass
        else:
            raise SystemExit("torch_mlp imported without torch")
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_importing_train_does_not_import_torch():
    code = "import sys, factmlp.train; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_theory_notes_scale_stores_well_below_interpolation():
    """THEORY_NOTES section 6: F = N = 512 spherical facts in d = 32 fit far below
    interpolation width (h = F = 512); at h = 32 (3072 params) GD stores them all."""
    fs = make_factset("spherical", d=32, facts=512, seed=0)
    mlp, info = train_gd(fs, 32, seed=0, steps=2000)
    assert info["certified"] and info["stored"] == 512
    assert mlp.n_params < 3 * 32 * 512
