"""TorchGatedMLP: the LlamaMLP layout, and exact round trips with GatedMLP."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from factmlp.errors import InvalidInputError, ShapeError
from factmlp.mlp import ACTIVATIONS, GatedMLP

torch = pytest.importorskip("torch")

from factmlp.torch_mlp import TorchGatedMLP, from_torch, to_torch  # noqa: E402


def _random_mlp(d: int, h: int, activation: str, dtype, seed: int) -> GatedMLP:
    rng = np.random.default_rng(seed)
    return GatedMLP(
        rng.standard_normal((h, d)).astype(dtype),
        rng.standard_normal((h, d)).astype(dtype),
        (rng.standard_normal((d, h)) / np.sqrt(h)).astype(dtype),
        activation,
    )


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype,rtol", [(np.float32, 1e-5), (np.float64, 1e-12)])
def test_round_trip_outputs_match(activation, dtype, rtol):
    mlp = _random_mlp(8, 13, activation, dtype, seed=1)
    module = to_torch(mlp)
    x = np.random.default_rng(2).standard_normal((40, 8)).astype(dtype)
    with torch.no_grad():
        y_torch = module(torch.from_numpy(x)).numpy()
    y_np = mlp(x)
    assert y_torch.dtype == dtype
    np.testing.assert_allclose(y_torch, y_np, rtol=rtol, atol=rtol * np.abs(y_np).max())
    back = from_torch(module, activation)
    assert back.activation == activation
    for name in ("gate_proj", "up_proj", "down_proj"):
        assert np.array_equal(getattr(back, name), getattr(mlp, name))


@given(
    d=st.integers(1, 6),
    h=st.integers(1, 6),
    activation=st.sampled_from(ACTIVATIONS),
    seed=st.integers(0, 2**16),
)
def test_round_trip_property(d, h, activation, seed):
    mlp = _random_mlp(d, h, activation, np.float64, seed)
    module = to_torch(mlp)
    x = np.random.default_rng(seed + 1).standard_normal((5, d))
    with torch.no_grad():
        y = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(y, mlp(x), rtol=1e-10, atol=1e-10)
    assert from_torch(module).activation == activation  # recorded on the module


def test_hugging_face_layout():
    m = TorchGatedMLP(8, 5, "silu")
    children = dict(m.named_children())
    assert set(children) == {"gate_proj", "up_proj", "down_proj", "act_fn"}
    for name in ("gate_proj", "up_proj", "down_proj"):
        assert isinstance(children[name], torch.nn.Linear)
        assert children[name].bias is None
    assert set(m.state_dict()) == {"gate_proj.weight", "up_proj.weight", "down_proj.weight"}
    assert m.gate_proj.weight.shape == (5, 8)
    assert m.up_proj.weight.shape == (5, 8)
    assert m.down_proj.weight.shape == (8, 5)
    assert isinstance(m.act_fn, torch.nn.SiLU)


def test_gelu_is_exact():
    m = TorchGatedMLP(4, 3, "gelu")
    assert isinstance(m.act_fn, torch.nn.GELU) and m.act_fn.approximate == "none"


def test_from_foreign_module_in_llama_layout():
    class Foreign(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gate_proj = torch.nn.Linear(6, 4, bias=False)
            self.up_proj = torch.nn.Linear(6, 4, bias=False)
            self.down_proj = torch.nn.Linear(4, 6, bias=False)

    f = Foreign()
    mlp = from_torch(f, "relu")
    x = torch.randn(3, 6, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ref = f.down_proj(torch.relu(f.gate_proj(x)) * f.up_proj(x)).numpy()
    np.testing.assert_allclose(mlp(x.numpy()), ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(InvalidInputError, match="activation"):
        from_torch(f)  # a foreign module does not record its activation


def test_from_torch_rejects_bad_modules():
    m = TorchGatedMLP(4, 3, "relu")
    m.up_proj = torch.nn.Linear(4, 3, bias=True)
    with pytest.raises(ShapeError, match="up_proj"):
        from_torch(m)
    with pytest.raises(ShapeError, match="gate_proj"):
        from_torch(torch.nn.Linear(3, 3), "relu")


def test_bfloat16_weights_are_widened():
    m = TorchGatedMLP(4, 3, "silu").to(torch.bfloat16)
    mlp = from_torch(m)
    assert mlp.dtype == np.float32
    assert np.array_equal(mlp.gate_proj, m.gate_proj.weight.float().detach().numpy())


@pytest.mark.parametrize(
    "args",
    [(0, 3), (3, 0), (2.5, 3), (True, 3)],
)
def test_bad_sizes(args):
    with pytest.raises(InvalidInputError):
        TorchGatedMLP(*args)


def test_bad_activation_and_dtype():
    with pytest.raises(InvalidInputError):
        TorchGatedMLP(3, 3, "tanh")
    with pytest.raises(InvalidInputError):
        TorchGatedMLP(3, 3, "silu", dtype="int64")
    with pytest.raises(InvalidInputError):
        to_torch("not an mlp")
