"""Optional compilation of array kernels with numba.

:func:`jit` is ``numba.njit(cache=True)`` when numba imports and the
environment variable ``FACTMLP_NO_JIT`` is not ``"1"`` (read once, at import);
otherwise it returns the function unchanged.  A kernel is written once, as
NumPy code on preallocated arrays that numba's nopython mode accepts, so the
compiled and the interpreted paths run the same algorithm; a compiled kernel
keeps the interpreted one as ``.py_func``.  ``cache=True`` stores the machine
code next to the module (``__pycache__``), so only the first import on a
machine pays the compile time.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["ENABLED", "jit"]

F = TypeVar("F", bound=Callable[..., Any])


def _njit() -> Callable[[F], F] | None:
    if os.environ.get("FACTMLP_NO_JIT") == "1":
        return None
    try:
        import numba
    except ImportError:
        return None
    return numba.njit(cache=True)


_COMPILE = _njit()
ENABLED = _COMPILE is not None  # True: kernels decorated with :func:`jit` are compiled


def jit(fn: F) -> F:
    """``fn`` compiled by numba (nopython, cached) when :data:`ENABLED`, else ``fn`` itself."""
    return _COMPILE(fn) if _COMPILE is not None else fn
