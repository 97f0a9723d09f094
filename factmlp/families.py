"""Embedding families and random fact sets (THEORY_NOTES section 5).

Every generator takes a seed (int) or a ``numpy.random.Generator``.  Rows are
embeddings in ``R^d``; decodability is invariant to a common positive scale,
so the scale conventions below matter for Transformer use, not for rho.

========== ===============================================================
family     row distribution (n rows in R^d)
========== ===============================================================
spherical  uniform on the unit sphere S^{d-1}: ``g / ||g||``, g ~ N(0, I)
gaussian   N(0, I/d)
uniform    i.i.d. U(-sqrt(3/d), sqrt(3/d)) coordinates (variance 1/d)
kaiming    i.i.d. U(-1/sqrt(d), 1/sqrt(d)): PyTorch's default ``nn.Linear``
           init (kaiming-uniform, a = sqrt(5)) with fan-in d
spiked     spherical rows pushed through ``I + beta u u^T`` (u a random unit
           vector shared by keys and values; beta = 1.5 by default)
condition  N(0, I/d) rows pushed through ``R diag(s) R^T`` with R a random
           rotation and s geometric from 1 down to 1/kappa, so the map has
           condition number kappa (default 10); shared by keys and values
tied       keys are value rows (tied input/output embeddings): key i is
           the embedding of token ``tokens[i]``; needs F <= N; the value
           rows follow ``base`` (spherical by default)
========== ===============================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InvalidInputError
from .factset import FactSet
from .validation import check_seed

__all__ = ["FAMILIES", "make_embeddings", "make_factset", "random_mapping"]

FAMILIES = ("spherical", "gaussian", "uniform", "kaiming", "spiked", "condition", "tied")


def _random_rotation(d: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def _check_sizes(n: int, d: int) -> None:
    if int(n) < 1 or int(d) < 1:
        raise InvalidInputError(f"sizes must be positive, got n={n}, d={d}")


def _shared_transform(
    family: str, d: int, rng: np.random.Generator, beta: float, condition: float
) -> np.ndarray | None:
    """The linear map (d x d, applied on the right) shared by keys and values, if any."""
    if family == "spiked":
        u = rng.standard_normal(d)
        u /= np.linalg.norm(u)
        return np.eye(d) + beta * np.outer(u, u)
    if family == "condition":
        if not condition >= 1.0:
            raise InvalidInputError(f"condition number must be >= 1, got {condition}")
        s = np.geomspace(1.0, 1.0 / condition, d) if d > 1 else np.ones(1)
        r = _random_rotation(d, rng)
        return (r * s) @ r.T
    return None


def _base_rows(family: str, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    if family in ("spherical", "spiked", "tied"):
        g = rng.standard_normal((n, d))
        return g / np.linalg.norm(g, axis=1, keepdims=True)
    if family in ("gaussian", "condition"):
        return rng.standard_normal((n, d)) / np.sqrt(d)
    if family == "uniform":
        b = np.sqrt(3.0 / d)
        return rng.uniform(-b, b, size=(n, d))
    if family == "kaiming":
        b = 1.0 / np.sqrt(d)
        return rng.uniform(-b, b, size=(n, d))
    raise InvalidInputError(f"unknown embedding family {family!r}; expected one of {FAMILIES}")


def make_embeddings(
    family: str,
    n: int,
    d: int,
    seed: Any,
    *,
    beta: float = 1.5,
    condition: float = 10.0,
) -> np.ndarray:
    """``n`` embeddings in ``R^d`` from ``family`` (array of shape (n, d), float64).

    For ``tied`` this returns the vocabulary rows (spherical).
    """
    _check_sizes(n, d)
    rng = check_seed(seed)
    if family not in FAMILIES:
        raise InvalidInputError(f"unknown embedding family {family!r}; expected one of {FAMILIES}")
    t = _shared_transform(family, d, rng, beta, condition)
    rows = _base_rows(family, n, d, rng)
    return rows if t is None else rows @ t


def random_mapping(n_facts: int, n_values: int, seed: Any) -> np.ndarray:
    """A random map ``[F] -> [N]``: a uniform permutation when F == N, else i.i.d. uniform."""
    rng = check_seed(seed)
    if n_facts == n_values:
        return rng.permutation(n_values).astype(np.int64)
    return rng.integers(0, n_values, size=n_facts).astype(np.int64)


def make_factset(
    family: str = "spherical",
    d: int = 32,
    facts: int = 256,
    values: int | None = None,
    seed: Any = 0,
    *,
    mapping: Any = None,
    beta: float = 1.5,
    condition: float = 10.0,
    dtype: Any = np.float64,
) -> FactSet:
    """A random fact set: F = ``facts`` keys and N = ``values`` values in ``R^d``.

    ``values`` defaults to ``facts`` (so the map is a random permutation).
    Keys and values are independent draws from ``family`` (sharing the
    family's linear map for ``spiked`` and ``condition``); for ``tied`` the
    keys are the value rows of F distinct random tokens.  ``mapping`` may be
    given explicitly (validated as usual).  The seed and parameters are kept
    in ``FactSet.meta``.
    """
    n_values = int(facts if values is None else values)
    _check_sizes(facts, d)
    _check_sizes(n_values, d)
    if family not in FAMILIES:
        raise InvalidInputError(f"unknown embedding family {family!r}; expected one of {FAMILIES}")
    rng = check_seed(seed)
    t = _shared_transform(family, d, rng, beta, condition)
    vals = _base_rows(family, n_values, d, rng)
    if family == "tied":
        if facts > n_values:
            raise InvalidInputError(
                f"family 'tied' takes keys from the {n_values} value rows, so facts ({facts}) must be <= values"
            )
        tokens = rng.permutation(n_values)[:facts]
        keys = vals[tokens]
    else:
        keys = _base_rows(family, facts, d, rng)
    if t is not None:
        keys, vals = keys @ t, vals @ t
    if mapping is None:
        mapping = random_mapping(facts, n_values, rng)
    meta: dict[str, Any] = {
        "family": family,
        "seed": seed if isinstance(seed, (int, np.integer)) else None,
        "d": int(d),
        "facts": int(facts),
        "values": n_values,
    }
    if family == "spiked":
        meta["beta"] = float(beta)
    if family == "condition":
        meta["condition"] = float(condition)
    return FactSet(keys.astype(dtype), vals.astype(dtype), mapping, meta=meta)
