"""GatedMLP: evaluation against the formula, activations, safetensors layout."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import erf

from factmlp import GatedMLP, load_mlp
from factmlp.errors import FileFormatError, InvalidInputError, NonFiniteError, ShapeError
from factmlp.mlp import ACTIVATIONS, activation_fn


def _mlp(h=5, d=3, act="silu", seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return GatedMLP(
        rng.standard_normal((h, d)).astype(dtype),
        rng.standard_normal((h, d)).astype(dtype),
        rng.standard_normal((d, h)).astype(dtype),
        act,
    )


REFERENCE = {
    "identity": lambda z: z,
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "silu": lambda z: z / (1.0 + np.exp(-z)),
    "gelu": lambda z: 0.5 * z * (1.0 + erf(z / np.sqrt(2.0))),
}


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_forward_matches_formula_per_vector(act):
    m = _mlp(act=act)
    x = np.random.default_rng(1).standard_normal((4, 3))
    for row in x:
        expect = m.down_proj @ (REFERENCE[act](m.gate_proj @ row) * (m.up_proj @ row))
        np.testing.assert_allclose(m(row), expect, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m(x)[2], m(x[2]), rtol=1e-13)


def test_silu_is_stable_for_large_inputs():
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    out = activation_fn("silu")(z)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[[0, 2, 4]], [0.0, 0.0, 1000.0])


def test_param_count_and_sizes():
    m = _mlp(h=7, d=4)
    assert (m.hidden, m.dim, m.n_params) == (7, 4, 84)


def test_bad_construction():
    rng = np.random.default_rng(0)
    with pytest.raises(ShapeError):
        GatedMLP(rng.standard_normal((5, 3)), rng.standard_normal((5, 4)), rng.standard_normal((3, 5)))
    with pytest.raises(ShapeError):
        GatedMLP(rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), rng.standard_normal((5, 3)))
    with pytest.raises(InvalidInputError, match="activation"):
        GatedMLP(rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), rng.standard_normal((3, 5)), "tanh")
    g = rng.standard_normal((5, 3))
    g[2, 1] = np.nan
    with pytest.raises(NonFiniteError):
        GatedMLP(g, rng.standard_normal((5, 3)), rng.standard_normal((3, 5)))
    with pytest.raises(ShapeError):
        _mlp()(np.ones((2, 4)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_safetensors_round_trip_exact(tmp_path, act, dtype):
    m = _mlp(act=act, dtype=dtype)
    path = tmp_path / "w.safetensors"
    m.save(path)
    back = load_mlp(path)
    assert back.activation == act and back.dtype == dtype
    for name in ("gate_proj", "up_proj", "down_proj"):
        np.testing.assert_array_equal(getattr(back, name), getattr(m, name))


def test_safetensors_layout_is_llama_mlp(tmp_path):
    from safetensors import safe_open

    m = _mlp(h=6, d=2, act="gelu")
    path = tmp_path / "w.safetensors"
    m.save(path)
    with safe_open(str(path), framework="numpy") as fh:
        assert set(fh.keys()) == {"gate_proj.weight", "up_proj.weight", "down_proj.weight"}
        assert fh.get_tensor("gate_proj.weight").shape == (6, 2)
        assert fh.get_tensor("up_proj.weight").shape == (6, 2)
        assert fh.get_tensor("down_proj.weight").shape == (2, 6)
        assert fh.metadata()["activation"] == "gelu"


def test_load_errors(tmp_path):
    from safetensors.numpy import save_file

    with pytest.raises(FileFormatError):
        load_mlp(tmp_path / "nope.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 20)
    with pytest.raises(FileFormatError):
        load_mlp(junk)
    partial = tmp_path / "partial.safetensors"
    save_file({"gate_proj.weight": np.ones((2, 2))}, str(partial), metadata={"activation": "relu"})
    with pytest.raises(FileFormatError, match="up_proj"):
        load_mlp(partial)
    noact = tmp_path / "noact.safetensors"
    save_file(
        {"gate_proj.weight": np.ones((2, 2)), "up_proj.weight": np.ones((2, 2)), "down_proj.weight": np.ones((2, 2))},
        str(noact),
    )
    with pytest.raises(FileFormatError, match="activation"):
        load_mlp(noact)
