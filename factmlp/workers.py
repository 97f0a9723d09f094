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
from .validation import check_positive_int

__all__ = ["default_workers", "parallel"]

ENV = "FACTMLP_WORKERS"
_WORKERS: ContextVar[int | None] = ContextVar("factmlp_workers", default=None)


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
    return check_positive_int(value, ENV)


@contextmanager
def parallel(workers: int) -> Iterator[int]:
    """Run the library's exact decodability solves on ``workers`` processes inside the block.

    >>> import factmlp
    >>> with factmlp.parallel(2):          # doctest: +SKIP
    ...     c = factmlp.construct(fs, "encdec")
    """
    token = _WORKERS.set(check_positive_int(workers, "workers"))
    try:
        yield _WORKERS.get() or 1
    finally:
        _WORKERS.reset(token)
