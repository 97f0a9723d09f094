"""The gated MLP container, in the Hugging Face ``LlamaMLP`` layout.

``g(x) = W_down (act(W_gate x) * (W_up x))`` with ``W_gate, W_up`` of shape
``(h, d)`` and ``W_down`` of shape ``(d, h)``: ``3 d h`` parameters.  Batches
are rows: for ``X`` of shape ``(n, d)``, ``g(X) = (act(X W_gate^T) * (X W_up^T)) W_down^T``.

Files are safetensors with tensors ``gate_proj.weight`` (h x d),
``up_proj.weight`` (h x d), ``down_proj.weight`` (d x h) and the activation
name in the metadata under ``activation``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import xp as _xp
from .errors import FileFormatError, InvalidInputError, ShapeError
from .validation import check_matrix

__all__ = ["GatedMLP", "ACTIVATIONS", "activation_fn", "load_mlp"]

ACTIVATIONS = ("identity", "relu", "silu", "gelu")

_TENSORS = ("gate_proj.weight", "up_proj.weight", "down_proj.weight")


def activation_fn(name: str) -> Callable[[Any], Any]:
    """Elementwise activation by name, working in the namespace of its argument.

    identity: x; relu: max(x, 0); silu: x / (1 + exp(-x)); gelu: exact
    ``x * Phi(x) = x (1 + erf(x / sqrt 2)) / 2`` (as ``torch.nn.GELU()``).
    """
    if name in ACTIVATIONS:
        from .activations import float_fn  # the one definition (factmlp/activations.py)

        return float_fn(name)
    raise InvalidInputError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


def _owned(a: Any, xp: Any) -> Any:
    """A private copy of a weight matrix; read-only for NumPy (CuPy has no read-only flag)."""
    a = xp.array(a, copy=True)
    if xp is np:
        a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class GatedMLP:
    """A gated MLP ``g(x) = W_down (act(W_gate x) * (W_up x))``.

    Attributes
    ----------
    gate_proj : (h, d) array
    up_proj : (h, d) array
    down_proj : (d, h) array
    activation : one of ``identity``, ``relu``, ``silu``, ``gelu``
    meta : free-form string metadata saved with the weights

    The weights are private copies (read-only for NumPy arrays), so later
    changes to the caller's arrays do not change the MLP.  Wider floats
    (``longdouble``) are accepted only when every entry is a float64.
    """

    gate_proj: Any
    up_proj: Any
    down_proj: Any
    activation: str = "silu"
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        activation_fn(self.activation)  # validates the name
        xp = _xp.get_namespace(self.gate_proj, self.up_proj, self.down_proj)
        if xp is np:
            gate = check_matrix(self.gate_proj, "gate_proj.weight")
            h, d = gate.shape
            up = check_matrix(self.up_proj, "up_proj.weight", nrows=h, ncols=d)
            down = check_matrix(self.down_proj, "down_proj.weight", nrows=d, ncols=h)
        else:  # pragma: no cover - needs GPU
            gate, up, down = self.gate_proj, self.up_proj, self.down_proj
            h, d = gate.shape
            if up.shape != (h, d) or down.shape != (d, h):
                raise ShapeError(f"inconsistent shapes: gate {gate.shape}, up {up.shape}, down {down.shape}")
        dtype = np.result_type(gate.dtype, up.dtype, down.dtype)
        object.__setattr__(self, "gate_proj", _owned(gate.astype(dtype, copy=False), xp))
        object.__setattr__(self, "up_proj", _owned(up.astype(dtype, copy=False), xp))
        object.__setattr__(self, "down_proj", _owned(down.astype(dtype, copy=False), xp))
        object.__setattr__(self, "meta", {str(k): str(v) for k, v in self.meta.items()})

    @property
    def hidden(self) -> int:
        """h, the hidden width."""
        return int(self.gate_proj.shape[0])

    @property
    def dim(self) -> int:
        """d, the model dimension."""
        return int(self.gate_proj.shape[1])

    @property
    def n_params(self) -> int:
        """Parameter count ``3 d h``."""
        return 3 * self.dim * self.hidden

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(str(self.gate_proj.dtype))

    def hidden_activations(self, x: Any) -> Any:
        """``act(X W_gate^T) * (X W_up^T)`` for rows ``X`` of shape (n, d): shape (n, h)."""
        act = activation_fn(self.activation)
        return act(x @ self.gate_proj.T) * (x @ self.up_proj.T)

    def __call__(self, x: Any) -> Any:
        """``g(X)`` for rows ``X`` of shape (n, d) (or a single vector of shape (d,))."""
        xp = _xp.get_namespace(x, self.gate_proj)
        x = xp.asarray(x)
        single = x.ndim == 1
        if single:
            x = x[None, :]
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ShapeError(f"input: expected shape (n, {self.dim}), got {tuple(x.shape)}")
        out = self.hidden_activations(x) @ self.down_proj.T
        return out[0] if single else out

    def to(self, backend: str) -> GatedMLP:
        """The same MLP with weights in the namespace of ``backend`` (``numpy``/``cupy``)."""
        xp = _xp.namespace(backend)
        return GatedMLP(
            _xp.asarray(self.gate_proj, xp),
            _xp.asarray(self.up_proj, xp),
            _xp.asarray(self.down_proj, xp),
            self.activation,
            dict(self.meta),
        )

    def astype(self, dtype: Any) -> GatedMLP:
        return GatedMLP(
            self.gate_proj.astype(dtype),
            self.up_proj.astype(dtype),
            self.down_proj.astype(dtype),
            self.activation,
            dict(self.meta),
        )

    def save(self, path: str | os.PathLike) -> None:
        """Write safetensors: ``gate_proj.weight``, ``up_proj.weight``, ``down_proj.weight``,
        metadata ``activation`` (plus ``format`` and this MLP's ``meta``).

        Written atomically (:mod:`factmlp._atomic`), so nothing partial is
        left; a symbolic link, directory or device node at ``path`` is
        refused.  The bytes are a function of the tensors and metadata only
        (sorted header, :mod:`factmlp._safetensors`), so equal MLPs give
        byte-identical files.
        """
        from ._atomic import write_bytes
        from ._safetensors import safetensors_bytes

        tensors = {
            "gate_proj.weight": np.ascontiguousarray(_xp.to_numpy(self.gate_proj)),
            "up_proj.weight": np.ascontiguousarray(_xp.to_numpy(self.up_proj)),
            "down_proj.weight": np.ascontiguousarray(_xp.to_numpy(self.down_proj)),
        }
        metadata = dict(self.meta)
        metadata.update({"activation": self.activation, "format": "factmlp.GatedMLP/1"})
        write_bytes(path, safetensors_bytes(tensors, metadata))

    @classmethod
    def load(cls, path: str | os.PathLike) -> GatedMLP:
        """Read weights written by :meth:`save` or any file in the LlamaMLP layout.

        A file without ``activation`` metadata is refused (the activation is
        part of the function the weights define), and so is a file with any
        tensor besides the three weights (``down_proj.bias``, ...): a biased
        or extended MLP computes a different function, and ignoring a tensor
        would certify the wrong one.
        """
        from safetensors import safe_open

        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileFormatError(f"{path}: no such file")
        try:
            with safe_open(path, framework="numpy") as fh:
                metadata = dict(fh.metadata() or {})
                names = set(fh.keys())
                missing = [n for n in _TENSORS if n not in names]
                if missing:
                    raise FileFormatError(f"{path}: missing tensor(s) {missing} (found {sorted(names)})")
                extra = sorted(names - set(_TENSORS))
                if extra:
                    raise FileFormatError(
                        f"{path}: unexpected tensor(s) {extra}; the gated MLP has exactly "
                        f"{list(_TENSORS)} and no biases, so these would change the function"
                    )
                arrays = {n: fh.get_tensor(n) for n in _TENSORS}
        except FileFormatError:
            raise
        except Exception as exc:
            raise FileFormatError(f"{path}: cannot read as safetensors ({exc})") from exc
        act = metadata.pop("activation", None)
        if act is None:
            raise FileFormatError(f"{path}: metadata has no 'activation' entry")
        metadata.pop("format", None)
        try:
            return cls(
                arrays["gate_proj.weight"],
                arrays["up_proj.weight"],
                arrays["down_proj.weight"],
                act,
                metadata,
            )
        except InvalidInputError as exc:
            raise type(exc)(f"{path}: {exc}", indices=exc.indices) from exc


def load_mlp(path: str | os.PathLike) -> GatedMLP:
    """Read a :class:`GatedMLP` from safetensors (see :meth:`GatedMLP.load`)."""
    return GatedMLP.load(path)
