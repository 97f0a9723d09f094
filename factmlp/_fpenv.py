"""Check that float64 arithmetic keeps subnormals (no FTZ, no DAZ).

The rigorous error bounds of :mod:`factmlp.verify` and
:mod:`factmlp.decodability` assume IEEE-754 binary64 with gradual underflow:
a result below ``2**-1022`` is rounded to a subnormal (absolute error at most
``2**-1075``), and a subnormal operand is used as the number it is.  Two CPU
modes break this and can be switched on at run time by any library in the
process (``torch.set_flush_denormal(True)``, ``-ffast-math`` shared objects):

* FTZ (flush to zero): subnormal *results* become 0;
* DAZ (denormals are zero): subnormal *operands* are read as 0, so e.g.
  ``|W| |x|`` of a key holding ``2**-1074`` is 0 and the bound misses the term.

:func:`check_subnormals` tests both with a handful of float64 operations
(about 20 microseconds), on NumPy scalars, NumPy arrays (the vectorised
loops) and a small matrix product (the BLAS kernel of the calling thread).
The mode is per thread and can flip at any time, so the verifier runs the
check on every call instead of caching it.
"""

from __future__ import annotations

import numpy as np

from .errors import FloatingPointEnvironmentError

__all__ = ["subnormal_problems", "check_subnormals"]

_TINY = 2.0**-1074  # the smallest subnormal
_MIN_NORMAL = 2.0**-1022


def _bits(x) -> list[int]:
    """The binary64 bit patterns of ``x`` (comparisons would read subnormals as 0 under DAZ)."""
    return np.ascontiguousarray(x, dtype=np.float64).reshape(-1).view(np.uint64).tolist()


def subnormal_problems() -> list[str]:
    """Names of the IEEE gradual-underflow rules this thread breaks (empty: all hold).

    ``"FTZ"``: ``2**-1022 / 2`` or ``2**-1022 * [0.5, 0.25]`` is not the
    subnormal ``2**-1023, 2**-1024``; ``"DAZ"``: a subnormal operand reads as
    0 (``2**-1074 * 2**1000 != 2**-74``); ``"BLAS"``: a matrix product with
    subnormal entries loses them.  Results are compared as bit patterns.
    """
    out = []
    half = np.float64(_MIN_NORMAL) / np.float64(2.0)
    arr = np.array([_MIN_NORMAL, _MIN_NORMAL]) * np.array([0.5, 0.25])
    if _bits(half) + _bits(arr) != [1 << 51, 1 << 51, 1 << 50]:
        out.append("FTZ")
    tiny = np.array([_TINY, 3 * _TINY])
    up = tiny * np.float64(2.0**1000)
    if _bits(np.float64(_TINY) * np.float64(2.0**1000)) + _bits(up) != _bits([2.0**-74, 2.0**-74, 3 * 2.0**-74]):
        out.append("DAZ")
    p = np.full((4, 4), 2.0**-1070) @ np.full((4, 4), 2.0**1000)
    if set(_bits(p)) != set(_bits(2.0**-68)):
        out.append("BLAS")
    return out


def check_subnormals(what: str) -> None:
    """Raise :class:`FloatingPointEnvironmentError` unless float64 keeps subnormals.

    ``what`` names the computation that refuses (it is put in the message).
    """
    problems = subnormal_problems()
    if problems:
        causes = {
            "FTZ": "flush-to-zero (subnormal results become 0)",
            "DAZ": "denormals-are-zero (subnormal operands read as 0)",
            "BLAS": "the matrix product drops subnormals",
        }
        detail = "; ".join(causes[p] for p in problems)
        raise FloatingPointEnvironmentError(
            f"{what}: float64 arithmetic in this process is not IEEE-754 with subnormals: {detail} "
            f"(e.g. torch.set_flush_denormal(True) or a -ffast-math library); its error bounds assume "
            f"subnormals, so it refuses to certify; turn the mode off (torch.set_flush_denormal(False))"
        )
