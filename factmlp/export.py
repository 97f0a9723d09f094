"""Export a :class:`~factmlp.mlp.GatedMLP` as a Hugging Face ``LlamaMLP`` block.

``export_hf(mlp, DIR)`` writes

* ``DIR/model.safetensors``: tensors ``gate_proj.weight`` (h x d),
  ``up_proj.weight`` (h x d), ``down_proj.weight`` (d x h) -- the state dict of
  ``transformers.models.llama.modeling_llama.LlamaMLP``, which computes
  ``down_proj(act_fn(gate_proj(x)) * up_proj(x))``, the same function as the
  gated MLP ``g(x) = W_down (act(W_gate x) * (W_up x))``;
* ``DIR/config.json``: ``hidden_size`` (d), ``intermediate_size`` (h),
  ``hidden_act`` (a key of transformers' ``ACT2FN``), ``mlp_bias: false``,
  ``torch_dtype``, and a ``factmlp`` entry with the original activation
  name and the MLP's metadata.  It describes one MLP block, not a whole
  model (no ``model_type``): build ``LlamaConfig(**fields)`` from it.

Activation names: factmlp ``silu`` -> ``"silu"`` (``nn.SiLU``), ``gelu`` ->
``"gelu"`` (``GELUActivation``: ``nn.functional.gelu``, the exact erf form, as
factmlp's), ``relu`` -> ``"relu"``, ``identity`` -> ``"linear"``
(``LinearActivation``, which returns its input: transformers has no key
named ``identity``).

This module is torch-free except :func:`load_hf_torch` and
``LlamaMLPEquivalent``, which import torch when used.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from .errors import FileFormatError, InvalidInputError
from .mlp import GatedMLP

# LlamaMLPEquivalent is served by __getattr__ and needs torch: listed here, it made
# ``from factmlp.export import *`` import torch (ModuleNotFoundError without it)
__all__ = ["HF_ACT", "FROM_HF_ACT", "export_hf", "read_hf", "load_hf_torch"]

#: factmlp activation -> transformers ACT2FN key
HF_ACT = {"silu": "silu", "gelu": "gelu", "relu": "relu", "identity": "linear"}
#: transformers ACT2FN key -> factmlp activation (``swish`` is transformers' alias of silu)
FROM_HF_ACT = {"silu": "silu", "swish": "silu", "gelu": "gelu", "relu": "relu", "linear": "identity"}

_TENSORS = ("gate_proj.weight", "up_proj.weight", "down_proj.weight")
_DTYPES = ("float32", "float64")


def _cast(name: str, w: np.ndarray, dtype: str) -> np.ndarray:
    """``w`` as ``dtype``; refuses a cast that turns a finite weight into an infinity."""
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(w.astype(dtype))
    if not np.isfinite(out).all():
        big = float(np.max(np.abs(w)))
        raise InvalidInputError(
            f"{name}: max |w| = {big:.6g} exceeds the range of {dtype} "
            f"(max {float(np.finfo(dtype).max):.6g}); export with --dtype float64 or rescale"
        )
    return out


def export_hf(mlp: GatedMLP, out_dir: str | os.PathLike, *, dtype: str | None = None) -> dict:
    """Write ``out_dir/model.safetensors`` and ``out_dir/config.json`` (see the module docstring).

    ``dtype``: ``None`` keeps the MLP's dtype, else ``float32`` or ``float64``;
    a weight outside the range of ``dtype`` (it would become an infinity)
    raises :class:`InvalidInputError` naming the tensor and its max ``|w|``.
    ``out_dir`` is created if missing; an existing non-directory path, or a
    target file that is a link, directory or device node, raises
    :class:`~factmlp.errors.OutputPathError`.  Both files are staged and
    renamed only once both are written (:func:`factmlp._atomic.write_files`);
    on failure neither file is left, nor a directory this call created.  The
    bytes depend only on the MLP (sorted headers, no timestamps).  Returns
    the config dict.
    """
    if not isinstance(mlp, GatedMLP):
        raise InvalidInputError(f"export_hf expects a GatedMLP, got {type(mlp).__name__}")
    name = np.dtype(mlp.dtype).name if dtype is None else str(dtype)
    if name not in _DTYPES:
        raise InvalidInputError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
    from ._atomic import check_output_dir, check_target, make_dirs, remove_dirs, write_files
    from ._safetensors import safetensors_bytes
    from .xp import to_numpy

    out_dir = check_output_dir(os.fspath(out_dir))
    st_path = os.path.join(out_dir, "model.safetensors")
    cfg_path = os.path.join(out_dir, "config.json")
    if os.path.isdir(out_dir):
        check_target(st_path)
        check_target(cfg_path)
    tensors = {
        f"{part}.weight": _cast(f"{part}.weight", np.asarray(to_numpy(getattr(mlp, part))), name)
        for part in ("gate_proj", "up_proj", "down_proj")
    }
    config = {
        "hidden_size": mlp.dim,
        "intermediate_size": mlp.hidden,
        "hidden_act": HF_ACT[mlp.activation],
        "mlp_bias": False,
        "torch_dtype": name,
        "factmlp": {"format": "factmlp.hf-mlp/1", "activation": mlp.activation, "meta": dict(mlp.meta)},
    }
    files = {
        st_path: safetensors_bytes(tensors, {"format": "pt"}),
        cfg_path: (json.dumps(config, indent=2, sort_keys=True) + "\n").encode("utf-8"),
    }
    created = make_dirs(out_dir)
    try:
        write_files(files)
    except BaseException:
        remove_dirs(created)
        raise
    return config


def read_hf(in_dir: str | os.PathLike) -> GatedMLP:
    """Read a directory written by :func:`export_hf` (or any LlamaMLP block with such a config) as a GatedMLP.

    Raises :class:`FileFormatError` for a missing or malformed file, tensor or
    config field, or an activation with no factmlp equivalent.
    """
    in_dir = os.fspath(in_dir)
    cfg_path = os.path.join(in_dir, "config.json")
    st_path = os.path.join(in_dir, "model.safetensors")
    try:
        with open(cfg_path) as fh:
            config = json.load(fh)
    except FileNotFoundError as exc:
        raise FileFormatError(f"{cfg_path}: no such file") from exc
    except (OSError, ValueError) as exc:
        raise FileFormatError(f"{cfg_path}: cannot read as JSON ({exc})") from exc
    act = config.get("hidden_act") if isinstance(config, dict) else None
    if act not in FROM_HF_ACT:
        raise FileFormatError(
            f"{cfg_path}: hidden_act {act!r} has no factmlp equivalent (known: {sorted(FROM_HF_ACT)})"
        )
    if config.get("mlp_bias", False):
        raise FileFormatError(f"{cfg_path}: mlp_bias is true; the gated MLP layout is bias-free")
    from safetensors import safe_open

    if not os.path.isfile(st_path):
        raise FileFormatError(f"{st_path}: no such file")
    try:
        with safe_open(st_path, framework="numpy") as fh:
            names = set(fh.keys())
            missing = [n for n in _TENSORS if n not in names]
            if missing:
                raise FileFormatError(f"{st_path}: missing tensor(s) {missing}")
            extra = sorted(names - set(_TENSORS))
            if extra:
                raise FileFormatError(f"{st_path}: unexpected tensor(s) {extra}; the exported block is bias-free")
            gate, up, down = (fh.get_tensor(n) for n in _TENSORS)
    except FileFormatError:
        raise
    except Exception as exc:
        raise FileFormatError(f"{st_path}: cannot read as safetensors ({exc})") from exc
    mlp = GatedMLP(gate, up, down, FROM_HF_ACT[act], dict(config.get("factmlp", {}).get("meta", {})))
    if (mlp.dim, mlp.hidden) != (config.get("hidden_size"), config.get("intermediate_size")):
        raise FileFormatError(
            f"{in_dir}: tensors have d={mlp.dim}, h={mlp.hidden} but config says "
            f"hidden_size={config.get('hidden_size')}, intermediate_size={config.get('intermediate_size')}"
        )
    return mlp


def _equivalent_class() -> Any:
    """Build (once) the torch class ``LlamaMLPEquivalent``."""
    global _EQUIVALENT
    if _EQUIVALENT is not None:
        return _EQUIVALENT
    from torch import nn

    from .torch_mlp import torch_activation  # needs torch

    class LlamaMLPEquivalent(nn.Module):
        """``down_proj(act_fn(gate_proj(x)) * up_proj(x))`` with bias-free ``nn.Linear`` layers,
        built from a config dict with ``hidden_size``, ``intermediate_size``, ``hidden_act`` (an HF name):
        the computation and state-dict names of transformers' ``LlamaMLP``, for when transformers is absent."""

        def __init__(self, config: dict, dtype: Any = None) -> None:
            super().__init__()
            d, h = int(config["hidden_size"]), int(config["intermediate_size"])
            self.gate_proj = nn.Linear(d, h, bias=False, dtype=dtype)
            self.up_proj = nn.Linear(d, h, bias=False, dtype=dtype)
            self.down_proj = nn.Linear(h, d, bias=False, dtype=dtype)
            self.act_fn = torch_activation(FROM_HF_ACT[config["hidden_act"]])

        def forward(self, x: Any) -> Any:
            return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))

    _EQUIVALENT = LlamaMLPEquivalent
    return _EQUIVALENT


_EQUIVALENT: Any = None


def __getattr__(name: str) -> Any:  # lazy torch class
    if name == "LlamaMLPEquivalent":
        return _equivalent_class()
    raise AttributeError(f"module 'factmlp.export' has no attribute {name!r}")


def load_hf_torch(in_dir: str | os.PathLike, *, use_transformers: bool = True) -> Any:
    """A torch module holding the exported MLP: transformers' ``LlamaMLP`` when importable and
    ``use_transformers``, else :class:`LlamaMLPEquivalent`; weights loaded from ``model.safetensors``
    (``load_state_dict(strict=True)``), dtype as stored."""
    import torch
    from safetensors.torch import load_file

    mlp = read_hf(in_dir)  # validates files and config
    in_dir = os.fspath(in_dir)
    with open(os.path.join(in_dir, "config.json")) as fh:
        config = json.load(fh)
    state = load_file(os.path.join(in_dir, "model.safetensors"))
    dtype = {"float32": torch.float32, "float64": torch.float64}[np.dtype(mlp.dtype).name]
    module = None
    if use_transformers:
        try:
            from transformers import LlamaConfig
            from transformers.models.llama.modeling_llama import LlamaMLP
        except ImportError:
            pass
        else:
            cfg = LlamaConfig(
                hidden_size=config["hidden_size"],
                intermediate_size=config["intermediate_size"],
                hidden_act=config["hidden_act"],
                mlp_bias=False,
                num_attention_heads=1,
                num_key_value_heads=1,
            )
            module = LlamaMLP(cfg).to(dtype)
    if module is None:
        module = _equivalent_class()(config, dtype=dtype)
    module.load_state_dict(state, strict=True)
    return module
