"""Typed exceptions of factmlp.

Every error raised on bad input derives from :class:`FactMLPError` and carries
``indices``: the offending positions (fact indices, value indices, rows), so a
caller can act on them without parsing the message.  The command line maps
every :class:`FactMLPError` to exit code 2 with the message on one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "FactMLPError",
    "InvalidInputError",
    "ShapeError",
    "DTypeError",
    "NonFiniteError",
    "EmptyInputError",
    "MappingRangeError",
    "DegenerateKeysError",
    "FileFormatError",
    "InfeasibleFactSetError",
    "TorchUnavailableError",
    "OutputPathError",
    "ConvergenceError",
    "NoCertifiedWidthError",
    "FloatingPointEnvironmentError",
    "ValueRangeError",
]


def _short(indices: Sequence[Any], limit: int = 10) -> str:
    """Render a list of indices, eliding the middle of long lists."""
    items = list(indices)
    if len(items) <= limit:
        return "[" + ", ".join(str(i) for i in items) + "]"
    head = ", ".join(str(i) for i in items[:limit])
    return f"[{head}, ... ({len(items)} in all)]"


class FactMLPError(Exception):
    """Base class of every error factmlp raises on purpose."""

    def __init__(self, message: str, indices: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.indices = list(indices)


class InvalidInputError(FactMLPError, ValueError):
    """An argument is malformed (shape, dtype, values, file)."""


class ShapeError(InvalidInputError):
    """Arrays have the wrong number of dimensions or mismatched sizes."""


class DTypeError(InvalidInputError, TypeError):
    """An array has a dtype factmlp cannot use (e.g. integer keys, float mapping)."""


class NonFiniteError(InvalidInputError):
    """An array holds NaN or infinity; ``indices`` lists the offending rows."""


class EmptyInputError(InvalidInputError):
    """An array that must be non-empty is empty."""


class MappingRangeError(InvalidInputError):
    """The fact mapping points outside ``[0, N)``; ``indices`` lists the facts."""


class DegenerateKeysError(InvalidInputError):
    """Keys make a construction's linear system singular (repeated keys, ...)."""


class FileFormatError(InvalidInputError):
    """A file cannot be read, or lacks the arrays/tensors factmlp expects."""


class InfeasibleFactSetError(FactMLPError, ValueError):
    """Some value used by the mapping cannot be decoded by any function.

    ``problems`` is a list of dicts ``{"value": j, "reason": "duplicate" |
    "inside_hull", "duplicate_of": k | None, "rho_upper": float}``, and
    ``indices`` the offending value indices.
    """

    def __init__(self, problems: Sequence[dict]) -> None:
        self.problems = [dict(p) for p in problems]
        parts = []
        for p in self.problems[:10]:
            if p.get("reason") == "duplicate":
                parts.append(f"value {p['value']} duplicates value {p['duplicate_of']}")
            else:
                parts.append(f"value {p['value']} lies inside the convex hull of the other values")
        more = "" if len(self.problems) <= 10 else f"; ... ({len(self.problems)} in all)"
        msg = f"infeasible fact set: {len(self.problems)} used value(s) cannot be decoded: " + "; ".join(parts) + more
        super().__init__(msg, indices=[p["value"] for p in self.problems])


class ConvergenceError(FactMLPError, RuntimeError):
    """An iterative solver stopped before its tolerance; the input may be fine.

    Raised instead of a verdict on the keys: the message names the solver,
    its iterations and residual, and what to change; ``indices`` lists the
    worst-fitted facts at the point it stopped.
    """


class NoCertifiedWidthError(FactMLPError, RuntimeError):
    """No width in the searched range gave an MLP that ``verify_storage`` certifies (a negative answer).

    Raised by :func:`factmlp.minimize.minimize`; ``indices`` lists the
    probed widths, the message the method, range and best certified count.
    """


class TorchUnavailableError(FactMLPError, ImportError):
    """A feature needs PyTorch, which is not installed (``pip install factmlp[torch]``)."""


def format_indices(indices: Sequence[Any], limit: int = 10) -> str:
    """Public helper used in messages: ``[1, 5, 9, ... (42 in all)]``."""
    return _short(indices, limit)


class FloatingPointEnvironmentError(FactMLPError, RuntimeError):
    """The process's float64 arithmetic is not IEEE-754 with gradual underflow.

    Raised by the verifier and by :func:`factmlp.decodability` when
    flush-to-zero (FTZ: subnormal results become 0) or denormals-are-zero
    (DAZ: subnormal operands read as 0) is on, e.g. after
    ``torch.set_flush_denormal(True)``: their error bounds assume subnormals.
    """


class ValueRangeError(InvalidInputError):
    """Finite input whose magnitudes cannot be handled exactly in float64.

    For example values whose entries span more binary orders of magnitude
    than float64 can hold after rescaling to unit size; ``indices`` lists
    the offending rows.
    """


class OutputPathError(InvalidInputError):
    """An output path cannot be written safely: its directory is missing, is a
    file or is read-only, or the target is a symbolic link, a directory or a
    device node (factmlp never replaces those)."""
