"""Input validation in one place (the ``check_array`` of factmlp).

Every public entry point that takes arrays passes them through these
functions, so bad input gets the same typed error, with the same wording and
the offending indices, wherever it enters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import (
    DTypeError,
    EmptyInputError,
    InvalidInputError,
    MappingRangeError,
    NonFiniteError,
    ShapeError,
    format_indices,
)

__all__ = ["check_matrix", "check_mapping", "check_seed", "check_positive_int"]


def check_matrix(
    a: Any,
    name: str,
    *,
    ncols: int | None = None,
    nrows: int | None = None,
    min_rows: int = 1,
    dtype: Any = None,
) -> np.ndarray:
    """Validate a real floating 2-D array of shape ``(rows, cols)``.

    Returns a C-contiguous NumPy array (``dtype`` if given, else the input's
    float dtype, float16 promoted to float32, wider floats such as
    ``longdouble`` converted to float64).  Raises :class:`DTypeError`
    for non-floating input (integers, bools, complex, objects, strings) and
    for wider floats holding an entry that float64 does not represent exactly,
    :class:`ShapeError` for wrong dimensionality or sizes,
    :class:`EmptyInputError` for fewer than ``min_rows`` rows or zero columns,
    :class:`NonFiniteError` naming the rows that hold NaN or infinity.
    """
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise ShapeError(f"{name}: cannot be read as an array ({exc})") from exc
    if arr.dtype.kind != "f":
        raise DTypeError(f"{name}: expected a real floating array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ShapeError(f"{name}: expected a 2-D array (rows, dim), got shape {arr.shape}")
    if arr.shape[0] < min_rows or arr.shape[1] == 0:
        raise EmptyInputError(f"{name}: expected at least {min_rows} row(s) and 1 column, got shape {arr.shape}")
    if nrows is not None and arr.shape[0] != nrows:
        raise ShapeError(f"{name}: expected {nrows} rows, got shape {arr.shape}")
    if ncols is not None and arr.shape[1] != ncols:
        raise ShapeError(f"{name}: expected {ncols} columns, got shape {arr.shape}")
    if arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad).tolist()
        raise NonFiniteError(f"{name}: rows {format_indices(rows)} hold NaN or infinity", indices=rows)
    if arr.dtype.itemsize > 8:
        arr = _exact_float64(arr, name)
    if dtype is not None:
        arr = arr.astype(dtype)
    return np.ascontiguousarray(arr)


def _exact_float64(arr: np.ndarray, name: str) -> np.ndarray:
    """``arr`` (a wider float, e.g. longdouble) as float64 if every entry is a float64 exactly.

    The round trip ``float64 -> arr.dtype`` is exact, so ``a64 == arr``
    elementwise holds iff no entry was rounded (or overflowed).  Raises
    :class:`DTypeError` naming the rows with an entry that is not a float64.
    """
    with np.errstate(over="ignore"):
        a64 = arr.astype(np.float64)
    bad = ~(a64.astype(arr.dtype) == arr).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad).tolist()
        raise DTypeError(
            f"{name}: dtype {arr.dtype} rows {format_indices(rows)} hold values not exactly "
            f"representable in float64 (factmlp computes in float64; round them first)",
            indices=rows,
        )
    return a64


def check_mapping(mapping: Any, n_facts: int, n_values: int, name: str = "mapping") -> np.ndarray:
    """Validate the fact map ``f: [F] -> [N]`` as an int64 array of shape ``(F,)``.

    Raises :class:`DTypeError` unless the dtype is an integer kind,
    :class:`ShapeError` for a wrong shape, :class:`MappingRangeError` naming
    the facts whose target lies outside ``[0, N)``.
    """
    try:
        arr = np.asarray(mapping)
    except Exception as exc:
        raise ShapeError(f"{name}: cannot be read as an array ({exc})") from exc
    if arr.dtype.kind not in "iu":
        raise DTypeError(f"{name}: expected an integer array, got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.shape[0] != n_facts:
        raise ShapeError(f"{name}: expected shape ({n_facts},) (one value per key), got {arr.shape}")
    arr = arr.astype(np.int64)
    bad = (arr < 0) | (arr >= n_values)
    if bad.any():
        facts = np.flatnonzero(bad).tolist()
        raise MappingRangeError(f"{name}: facts {format_indices(facts)} map outside [0, {n_values})", indices=facts)
    return np.ascontiguousarray(arr)


def check_seed(seed: Any) -> np.random.Generator:
    """A ``numpy.random.Generator`` from an int seed, a Generator or a SeedSequence.

    ``None`` is refused: every random choice in factmlp is reproducible.
    A negative int is refused with :class:`InvalidInputError` (NumPy seeds
    are non-negative).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise TypeError("a seed (int) or numpy.random.Generator is required; factmlp does not draw unseeded randomness")
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"seed must be an int or numpy.random.Generator, got {seed!r}")
    if isinstance(seed, (int, np.integer)) and seed < 0:
        raise InvalidInputError(f"seed must be a non-negative integer, got {seed}")
    if isinstance(seed, (int, np.integer, np.random.SeedSequence)):
        return np.random.default_rng(seed)
    raise TypeError(f"seed must be an int or numpy.random.Generator, got {type(seed).__name__}")


def check_positive_int(value: Any, name: str) -> int:
    """``int(value)`` for an integer ``value >= 1`` (Python or NumPy, not a bool); else :class:`InvalidInputError`."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or int(value) < 1:
        raise InvalidInputError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


FLOAT_DTYPES = ("float32", "float64")


def check_float_dtype(dtype: Any) -> str:
    """The name (``"float32"`` or ``"float64"``) of a NumPy or torch float dtype.

    Accepts anything ``numpy.dtype`` understands and ``torch.float32`` /
    ``torch.float64`` (recognised by name, so torch is not imported here).
    Raises :class:`InvalidInputError` for any other dtype.
    """
    if type(dtype).__module__ == "torch" and type(dtype).__name__ == "dtype":
        name = str(dtype).removeprefix("torch.")
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError as exc:
            raise InvalidInputError(f"dtype must be one of {FLOAT_DTYPES}, got {dtype!r}") from exc
    if name not in FLOAT_DTYPES:
        raise InvalidInputError(f"dtype must be one of {FLOAT_DTYPES}, got {dtype!r}")
    return name
