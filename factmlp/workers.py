"""How many processes an exact decodability solve uses when its caller does not say.

:func:`factmlp.decodability.decodability` splits the requested values over
``workers`` processes (``rho_j`` is independent per value).  Called directly
it takes ``workers=``; called from inside the library (feasibility, the
encdec and margin constructions, the claims) it uses :func:`default_workers`:

1. the innermost ``with factmlp.parallel(n):`` block, else
2. the environment variable ``FACTMLP_WORKERS`` (a positive integer), else
3. 1 (this process only).

The split processes themselves always run with one worker (no nesting).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .errors import InvalidInputError

__all__ = ["default_workers", "parallel", "check_workers"]

ENV = "FACTMLP_WORKERS"
_WORKERS: ContextVar[int | None] = ContextVar("factmlp_workers", default=None)


def check_workers(workers: object, name: str = "workers") -> int:
    """``int(workers)`` if it is an integer >= 1 (not a bool); else :class:`InvalidInputError`."""
    import numpy as np

    if isinstance(workers, (bool, np.bool_)) or not isinstance(workers, (int, np.integer)) or int(workers) < 1:
        raise InvalidInputError(f"{name} must be an integer >= 1, got {workers!r}")
    return int(workers)


def default_workers() -> int:
    """The process count of the innermost :func:`parallel` block, else ``$FACTMLP_WORKERS``, else 1."""
    n = _WORKERS.get()
    if n is not None:
        return n
    text = os.environ.get(ENV, "").strip()
    if not text:
        return 1
    try:
        value = int(text)
    except ValueError:
        raise InvalidInputError(f"{ENV} must be a positive integer, got {text!r}") from None
    return check_workers(value, ENV)


@contextmanager
def parallel(workers: int) -> Iterator[int]:
    """Run the library's exact decodability solves on ``workers`` processes inside the block.

    >>> import factmlp
    >>> with factmlp.parallel(2):          # doctest: +SKIP
    ...     c = factmlp.construct(fs, "encdec")
    """
    token = _WORKERS.set(check_workers(workers))
    try:
        yield _WORKERS.get() or 1
    finally:
        _WORKERS.reset(token)
