"""Optional compilation of array kernels with numba.

:func:`jit` is ``numba.njit(cache=True)`` when numba imports and the
environment variable ``FACTMLP_NO_JIT`` is not ``"1"`` (read once, at import);
otherwise it returns the function unchanged.  A kernel is written once, as
NumPy code on preallocated arrays that numba's nopython mode accepts, so the
compiled and the interpreted paths run the same algorithm; a compiled kernel
keeps the interpreted one as ``.py_func``.  The one exception is a primitive
numba lacks (a LAPACK call through SciPy): :func:`compiled_as` registers a
loop version that compiled kernels use in its place, while the interpreted
path keeps the library call.  ``cache=True`` stores the machine
code next to the module (``__pycache__``), so only the first import on a
machine pays the compile time.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

__all__ = ["ENABLED", "jit", "compiled_as"]

F = TypeVar("F", bound=Callable[..., Any])


def _njit() -> Callable[[F], F] | None:
    if os.environ.get("FACTMLP_NO_JIT") == "1":
        return None
    try:
        import numba
    except ImportError:
        return None
    return cast("Callable[[F], F]", numba.njit(cache=True))


_COMPILE = _njit()
ENABLED = _COMPILE is not None  # True: kernels decorated with :func:`jit` are compiled


def jit(fn: F) -> F:
    """``fn`` compiled by numba (nopython, cached) when :data:`ENABLED`, else ``fn`` itself."""
    return _COMPILE(fn) if _COMPILE is not None else fn


def compiled_as(py_fn: Callable[..., Any]) -> Callable[[F], F]:
    """Register the decorated loop function as what compiled kernels run for ``py_fn``.

    ``py_fn`` (e.g. a SciPy LAPACK call) is what the interpreted path runs;
    inside a kernel compiled by :func:`jit`, a call of ``py_fn`` compiles to
    the decorated function instead (``numba.extending.overload``).  The two
    must compute the same thing (tests compare them); nothing happens when
    not :data:`ENABLED`.
    """

    def register(impl: F) -> F:
        if _COMPILE is not None:
            from numba.extending import overload

            def typing(*args: Any) -> F:  # numba's typing function: any argument types -> impl
                return impl

            typing.__signature__ = inspect.signature(impl)  # type: ignore[attr-defined]  # numba checks it
            overload(py_fn)(typing)  # compiled into (and cached with) the calling kernel
        return impl

    return register
