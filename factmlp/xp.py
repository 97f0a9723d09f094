"""One array namespace for the numeric code: NumPy, or CuPy when asked for.

The numeric modules never branch on the backend.  They take arrays, ask
:func:`get_namespace` for the module that owns them (``numpy`` or ``cupy``),
and call functions both modules share (``xp.asarray``, ``xp.linalg.norm``,
``xp.einsum``, ...).  Functions outside that shared surface (``erf``, solvers
from SciPy) are reached through the helpers here, which dispatch once.

Backends are named ``"numpy"`` or ``"cupy"``; ``"auto"`` means CuPy when it
imports and sees a CUDA device, else NumPy.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "get_namespace",
    "namespace",
    "cupy_available",
    "to_numpy",
    "asarray",
    "erf",
    "is_cupy_array",
]


def _try_cupy() -> ModuleType | None:
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:  # pragma: no cover - needs GPU
            return None
        return cupy
    except Exception:
        return None


def cupy_available() -> bool:
    """True when CuPy imports and sees at least one CUDA device."""
    return _try_cupy() is not None


def namespace(backend: str | None = "numpy") -> ModuleType:
    """The array module for a backend name: ``"numpy"``, ``"cupy"`` or ``"auto"``.

    Raises ``ValueError`` for an unknown name and ``RuntimeError`` when CuPy is
    asked for but unusable.
    """
    if backend is None or backend == "numpy":
        return np
    if backend == "auto":
        cp = _try_cupy()
        return cp if cp is not None else np
    if backend == "cupy":
        cp = _try_cupy()
        if cp is None:
            raise RuntimeError("backend 'cupy' asked for, but CuPy is not installed or sees no CUDA device")
        return cp
    raise ValueError(f"unknown array backend {backend!r}; expected 'numpy', 'cupy' or 'auto'")


def is_cupy_array(a: Any) -> bool:
    return type(a).__module__.split(".")[0] == "cupy"


def get_namespace(*arrays: Any) -> ModuleType:
    """The module owning ``arrays``: ``cupy`` if any is a CuPy array, else ``numpy``.

    Mixing is resolved towards CuPy (NumPy inputs are moved by :func:`asarray`).
    """
    for a in arrays:
        if is_cupy_array(a):
            import cupy

            return cupy
    return np


def asarray(a: Any, xp: ModuleType, dtype: Any = None) -> Any:
    """``a`` as an array of namespace ``xp`` (copying host<->device if needed)."""
    if xp is np and is_cupy_array(a):
        a = a.get()
    return xp.asarray(a, dtype=dtype)


def to_numpy(a: Any) -> np.ndarray:
    """A NumPy array with the contents of ``a`` (a device array is copied to host)."""
    if is_cupy_array(a):
        return a.get()
    return np.asarray(a)


def erf(x: Any) -> Any:
    """Elementwise error function in the namespace of ``x``."""
    if is_cupy_array(x):
        from cupyx.scipy.special import erf as _erf

        return _erf(x)
    from scipy.special import erf as _erf

    return _erf(x)
