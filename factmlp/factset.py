"""Fact sets: keys, values and the map between them.

A fact set holds keys ``K`` of shape ``(F, d)``, values ``V`` of shape
``(N, d)`` and a map ``f`` of shape ``(F,)`` with entries in ``[0, N)``; fact
``i`` is the pair ``k_i -> v_{f(i)}``.  Instances are immutable: the arrays are
private read-only copies, validated once, here.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InvalidInputError, ShapeError
from .validation import check_mapping, check_matrix

__all__ = ["FactSet", "load_factset"]

_NPZ_KEYS = ("keys", "values", "mapping")


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class FactSet:
    """An immutable, validated fact set ``(K, V, f)``.

    Parameters
    ----------
    keys : array of shape (F, d), real floating, finite
    values : array of shape (N, d), same ``d``, real floating, finite, N >= 2
    mapping : integer array of shape (F,), entries in [0, N)
    meta : optional dict of JSON-serialisable provenance (family, seed, ...)

    Notes
    -----
    Keys and values are kept in float64 unless both were given as float32.
    """

    keys: np.ndarray
    values: np.ndarray
    mapping: np.ndarray
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        keys = check_matrix(self.keys, "keys")
        values = check_matrix(self.values, "values", ncols=keys.shape[1], min_rows=2)
        dtype = np.float32 if (keys.dtype == np.float32 and values.dtype == np.float32) else np.float64
        mapping = check_mapping(self.mapping, keys.shape[0], values.shape[0])
        object.__setattr__(self, "keys", _frozen(keys.astype(dtype, copy=False)))
        object.__setattr__(self, "values", _frozen(values.astype(dtype, copy=False)))
        object.__setattr__(self, "mapping", _frozen(mapping))
        object.__setattr__(self, "meta", dict(self.meta))

    # ---- sizes -------------------------------------------------------------
    @property
    def n_facts(self) -> int:
        """F, the number of facts (keys)."""
        return int(self.keys.shape[0])

    @property
    def n_values(self) -> int:
        """N, the number of values."""
        return int(self.values.shape[0])

    @property
    def dim(self) -> int:
        """d, the embedding dimension."""
        return int(self.keys.shape[1])

    @property
    def used_values(self) -> np.ndarray:
        """Sorted indices of the values the map uses, ``f([F])``."""
        return np.unique(self.mapping)

    @property
    def targets(self) -> np.ndarray:
        """``V[f]``: the target value of every fact, shape (F, d)."""
        return self.values[self.mapping]

    def __len__(self) -> int:
        return self.n_facts

    def __repr__(self) -> str:
        fam = self.meta.get("family")
        extra = f", family={fam!r}" if fam else ""
        return f"FactSet(F={self.n_facts}, N={self.n_values}, d={self.dim}, dtype={self.keys.dtype}{extra})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FactSet):
            return NotImplemented
        return (
            self.keys.dtype == other.keys.dtype
            and np.array_equal(self.keys, other.keys)
            and np.array_equal(self.values, other.values)
            and np.array_equal(self.mapping, other.mapping)
        )

    __hash__ = None  # type: ignore[assignment]

    def with_mapping(self, mapping: Any) -> FactSet:
        """A new fact set with the same embeddings and another map."""
        return FactSet(self.keys, self.values, mapping, meta=dict(self.meta))

    def subset(self, facts: Any) -> FactSet:
        """The fact set restricted to the facts with the given indices (values kept)."""
        idx = np.asarray(facts, dtype=np.int64)
        return FactSet(self.keys[idx], self.values, self.mapping[idx], meta=dict(self.meta))

    def fingerprint(self) -> str:
        """SHA-256 over dtype, shapes and bytes of keys, values and mapping."""
        h = hashlib.sha256()
        for a in (self.keys, self.values, self.mapping):
            h.update(str(a.dtype).encode())
            h.update(str(a.shape).encode())
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    # ---- I/O ---------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write an ``.npz`` file with arrays named exactly ``keys``, ``values``, ``mapping``.

        Written atomically (:mod:`factmlp._atomic`: temporary file in the
        target's directory, fsync, rename), so a failure leaves nothing
        partial behind; a symbolic link, directory or device node at
        ``path`` is refused with :class:`~factmlp.errors.OutputPathError`.
        Equal fact sets give byte-identical files (fixed zip timestamps).
        """
        from ._atomic import write_bytes
        from ._npz import npz_bytes

        write_bytes(path, npz_bytes({"keys": self.keys, "values": self.values, "mapping": self.mapping}))

    @classmethod
    def load(cls, path: str | os.PathLike) -> FactSet:
        """Read a fact set written by :meth:`save` (or any ``.npz`` with the three arrays).

        Raises :class:`FileFormatError` for a missing or unreadable file, a
        file that is not a zip archive (an ``.npy`` file, a pickle, ...),
        missing arrays, object dtypes, or a member whose declared shape does
        not match its data or exceeds physical memory (headers are read
        before anything is allocated: see :mod:`factmlp._npz`); the arrays
        then go through the same validation as the constructor.
        """
        from ._npz import read_npz

        path = os.fspath(path)
        arrays = read_npz(path, _NPZ_KEYS, what="a fact set .npz archive")
        try:
            return cls(arrays["keys"], arrays["values"], arrays["mapping"], meta={"source": path})
        except ShapeError:
            raise
        except InvalidInputError as exc:
            raise type(exc)(f"{path}: {exc}", indices=exc.indices) from exc


def load_factset(path: str | os.PathLike) -> FactSet:
    """Read a fact set ``.npz`` file (see :meth:`FactSet.load`)."""
    return FactSet.load(path)
