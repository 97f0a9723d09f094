"""A PyTorch twin of :class:`factmlp.mlp.GatedMLP`, in the Hugging Face ``LlamaMLP`` layout.

``g(x) = down_proj(act_fn(gate_proj(x)) * up_proj(x))`` with ``gate_proj``,
``up_proj``: ``nn.Linear(d, h, bias=False)`` (weights of shape ``(h, d)``) and
``down_proj``: ``nn.Linear(h, d, bias=False)`` (weight of shape ``(d, h)``):
``3 d h`` parameters, the same names and shapes as ``LlamaMLP``, so a state
dict moves between the two unchanged.

This module needs torch: importing it without torch raises
:class:`~factmlp.errors.TorchUnavailableError`.  The rest of factmlp imports it
lazily, only when a torch feature is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InvalidInputError, ShapeError, TorchUnavailableError
from .mlp import ACTIVATIONS, GatedMLP
from .validation import check_float_dtype, check_positive_int

try:
    import torch
    from torch import nn
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise TorchUnavailableError(
        "factmlp.torch_mlp needs PyTorch, which is not installed (pip install 'factmlp[torch]')"
    ) from exc

__all__ = ["TorchGatedMLP", "to_torch", "from_torch", "torch_activation"]

_TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def torch_activation(name: str) -> nn.Module:
    """The ``nn.Module`` computing activation ``name`` exactly as :func:`factmlp.mlp.activation_fn`.

    identity -> ``nn.Identity()``, relu -> ``nn.ReLU()``, silu -> ``nn.SiLU()``,
    gelu -> ``nn.GELU()`` (exact erf form, not the tanh approximation).
    """
    if name == "identity":
        return nn.Identity()
    if name == "relu":
        return nn.ReLU()
    if name == "silu":
        return nn.SiLU()
    if name == "gelu":
        return nn.GELU()
    raise InvalidInputError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


def _torch_dtype(dtype: Any) -> torch.dtype:
    """``torch.float32`` or ``torch.float64`` for a NumPy or torch float dtype."""
    return _TORCH_DTYPES[check_float_dtype(dtype)]


class TorchGatedMLP(nn.Module):
    """Gated MLP ``g(x) = W_down (act(W_gate x) * (W_up x))`` as an ``nn.Module``.

    Parameters
    ----------
    dim : d, the model dimension (input and output size)
    hidden : h, the hidden width
    activation : ``identity``, ``relu``, ``silu`` or ``gelu`` (exact)
    dtype : ``float32`` (default) or ``float64``

    Notes
    -----
    Submodules ``gate_proj`` (d -> h), ``up_proj`` (d -> h), ``down_proj``
    (h -> d), all bias-free ``nn.Linear``, and ``act_fn``: the names of
    Hugging Face's ``LlamaMLP``.  Weights start at ``nn.Linear``'s default
    initialisation (drawn from torch's global generator); callers that need
    reproducibility set them explicitly (as :func:`factmlp.train.train_gd` does).
    """

    def __init__(self, dim: int, hidden: int, activation: str = "silu", dtype: Any = "float32") -> None:
        super().__init__()
        dim, hidden = check_positive_int(dim, "dim"), check_positive_int(hidden, "hidden")
        tdtype = _torch_dtype(dtype)
        self.activation = str(activation)
        self.act_fn = torch_activation(self.activation)
        self.gate_proj = nn.Linear(int(dim), int(hidden), bias=False, dtype=tdtype)
        self.up_proj = nn.Linear(int(dim), int(hidden), bias=False, dtype=tdtype)
        self.down_proj = nn.Linear(int(hidden), int(dim), bias=False, dtype=tdtype)

    @property
    def dim(self) -> int:
        """d."""
        return int(self.gate_proj.in_features)

    @property
    def hidden(self) -> int:
        """h."""
        return int(self.gate_proj.out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``g(X)`` for rows ``X`` of shape (..., d): shape (..., d)."""
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


def to_torch(mlp: GatedMLP) -> TorchGatedMLP:
    """A :class:`TorchGatedMLP` computing the same function as ``mlp`` (weights copied, CPU).

    The dtype is the MLP's (float32 or float64).
    """
    if not isinstance(mlp, GatedMLP):
        raise InvalidInputError(f"to_torch expects a factmlp.GatedMLP, got {type(mlp).__name__}")
    from .xp import to_numpy

    dtype = np.dtype(mlp.dtype).name
    if dtype not in _TORCH_DTYPES:
        raise InvalidInputError(f"to_torch supports float32 and float64 weights, got {dtype}")
    module = TorchGatedMLP(mlp.dim, mlp.hidden, mlp.activation, dtype=dtype)
    with torch.no_grad():
        module.gate_proj.weight.copy_(torch.from_numpy(np.array(to_numpy(mlp.gate_proj))))
        module.up_proj.weight.copy_(torch.from_numpy(np.array(to_numpy(mlp.up_proj))))
        module.down_proj.weight.copy_(torch.from_numpy(np.array(to_numpy(mlp.down_proj))))
    return module


def from_torch(module: Any, activation: str | None = None, meta: dict | None = None) -> GatedMLP:
    """The :class:`GatedMLP` with the weights of ``module`` (any module in the LlamaMLP layout).

    ``module`` must have ``gate_proj``, ``up_proj``, ``down_proj`` submodules
    with a ``weight`` of shapes (h, d), (h, d), (d, h) and no bias.
    ``activation`` names ``act_fn``'s function; it may be omitted for a
    :class:`TorchGatedMLP`, which records it.  Weights are copied to NumPy.
    """
    if activation is None:
        activation = getattr(module, "activation", None)
        if not isinstance(activation, str):
            raise InvalidInputError(
                f"from_torch: pass activation= (one of {ACTIVATIONS}); the module does not record its activation"
            )
    arrays = []
    for name in ("gate_proj", "up_proj", "down_proj"):
        sub = getattr(module, name, None)
        weight = getattr(sub, "weight", None)
        if weight is None or not isinstance(weight, torch.Tensor):
            raise ShapeError(f"from_torch: module has no {name}.weight tensor (LlamaMLP layout expected)")
        if getattr(sub, "bias", None) is not None:
            raise ShapeError(f"from_torch: {name} has a bias; the gated MLP layout is bias-free")
        w = weight.detach().cpu()
        if w.dtype not in (torch.float32, torch.float64):  # half, bfloat16: widen exactly
            w = w.to(torch.float32)
        arrays.append(w.numpy().copy())
    return GatedMLP(arrays[0], arrays[1], arrays[2], activation, dict(meta or {}))
