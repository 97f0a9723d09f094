"""Hypothesis strategies for fact sets, in the spirit of ``hypothesis.extra.numpy``.

Every strategy draws an integer seed with Hypothesis and builds the arrays
with NumPy from that seed, so a drawn object is reproducible from its seed
(kept in ``FactSet.meta["seed"]``) and Hypothesis shrinks the sizes, not the
floats.  Size and family parameters accept a plain value or a strategy.

* :func:`embeddings` -- an ``(n, d)`` array of rows from one embedding family;
* :func:`fact_sets` -- a :class:`~factmlp.factset.FactSet` ``(K, V, f)``,
  optionally filtered to decodability ``rho(V, f([F])) >= min_rho``;
* :func:`degenerate_fact_sets` -- the degenerate inputs of the theory
  (THEORY_NOTES sections 2 and 3), each with the error it must cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from ..errors import FactMLPError, InfeasibleFactSetError, InvalidInputError, NonFiniteError
from ..factset import FactSet
from ..families import FAMILIES, make_embeddings, make_factset

__all__ = [
    "DEGENERATE_KINDS",
    "DegenerateCase",
    "embeddings",
    "fact_sets",
    "degenerate_fact_sets",
]

#: The degenerate inputs :func:`degenerate_fact_sets` can draw.
DEGENERATE_KINDS = (
    "duplicate_keys_conflicting",
    "duplicate_values",
    "interior_value",
    "nonfinite",
    "keys_in_subspace",
)

_SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def _as_strategy(value: Any, name: str) -> st.SearchStrategy:
    """``value`` itself if it is a strategy, else ``just(value)``."""
    if isinstance(value, st.SearchStrategy):
        return value
    if value is None:
        raise InvalidInputError(f"{name}: expected a value or a strategy, got None")
    return st.just(value)


def _check_family(family: Any) -> None:
    if not isinstance(family, st.SearchStrategy) and family not in FAMILIES:
        raise InvalidInputError(f"unknown embedding family {family!r}; expected one of {FAMILIES}")


def _check_positive(value: Any, name: str, minimum: int) -> None:
    if isinstance(value, st.SearchStrategy):
        return
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise InvalidInputError(f"{name} must be an int >= {minimum} or a strategy, got {value!r}")


def embeddings(
    n: int | st.SearchStrategy = st.integers(1, 16),
    d: int | st.SearchStrategy = st.integers(1, 8),
    *,
    family: str | st.SearchStrategy = st.sampled_from(FAMILIES),
    dtype: Any = np.float64,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays ``E`` of shape ``(n, d)``: ``n`` rows drawn i.i.d. from ``family`` in ``R^d``.

    The rows are ``make_embeddings(family, n, d, seed)`` for a drawn seed
    (see :mod:`factmlp.families` for each family's distribution, e.g.
    ``spherical``: ``g / ||g||`` with ``g ~ N(0, I_d)``; ``tied`` gives its
    spherical vocabulary rows), cast to ``dtype`` (float32 or float64).
    ``n``, ``d`` and ``family`` are each a value or a strategy.
    """
    _check_family(family)
    _check_positive(n, "n", 1)
    _check_positive(d, "d", 1)
    dtype = np.dtype(dtype)
    fam_s, n_s, d_s = _as_strategy(family, "family"), _as_strategy(n, "n"), _as_strategy(d, "d")

    @st.composite
    def _draw(draw: Any) -> np.ndarray:
        fam, rows, dim, seed = draw(fam_s), draw(n_s), draw(d_s), draw(_SEEDS)
        return make_embeddings(fam, int(rows), int(dim), seed).astype(dtype)

    return _draw()


def fact_sets(
    *,
    family: str | st.SearchStrategy = st.sampled_from(FAMILIES),
    d: int | st.SearchStrategy = st.integers(2, 8),
    facts: int | st.SearchStrategy = st.integers(2, 16),
    values: int | None | st.SearchStrategy = None,
    min_rho: float | None = None,
    dtype: Any = np.float64,
) -> st.SearchStrategy[FactSet]:
    """Fact sets ``(K, V, f)``: F = ``facts`` keys and N = ``values`` values in ``R^d``.

    Drawn as ``make_factset(family, d, facts, values, seed)`` for a drawn
    seed: keys and values from ``family``, the map ``f: [F] -> [N]`` a
    uniform permutation when F == N, else i.i.d. uniform.  ``values=None``
    means N = max(F, 2).  The ``tied`` family (keys are value rows) needs
    F <= N; drawn sizes that violate it are rejected with ``assume``.

    ``min_rho``: keep only sets whose used values have decodability
    ``rho(V, f([F])) >= min_rho`` (exact, certified; see
    :func:`factmlp.decodability.rho`), by ``hypothesis.assume``; with
    ``min_rho > 0`` every drawn set is feasible (``check_feasible`` passes).
    The set's rho is then kept in ``meta["rho"]``.
    """
    _check_family(family)
    _check_positive(d, "d", 1)
    _check_positive(facts, "facts", 1)
    if values is not None:
        _check_positive(values, "values", 2)
    if (
        family == "tied"
        and not isinstance(facts, st.SearchStrategy)
        and values is not None
        and not isinstance(values, st.SearchStrategy)
        and int(facts) > int(values)
    ):
        raise InvalidInputError(f"family 'tied' needs facts <= values, got facts={facts}, values={values}")
    if min_rho is not None and not (isinstance(min_rho, (int, float)) and np.isfinite(min_rho) and min_rho <= 1):
        raise InvalidInputError(f"min_rho must be a finite number <= 1 (rho is at most 1), got {min_rho!r}")
    dtype = np.dtype(dtype)
    fam_s, d_s, f_s = _as_strategy(family, "family"), _as_strategy(d, "d"), _as_strategy(facts, "facts")
    v_s = None if values is None else _as_strategy(values, "values")

    @st.composite
    def _draw(draw: Any) -> FactSet:
        fam, dim, n_facts = draw(fam_s), int(draw(d_s)), int(draw(f_s))
        n_values = max(n_facts, 2) if v_s is None else int(draw(v_s))
        if fam == "tied":
            assume(n_facts <= n_values)
        fs = make_factset(fam, d=dim, facts=n_facts, values=n_values, seed=draw(_SEEDS), dtype=dtype)
        if min_rho is None:
            return fs
        from ..decodability import rho

        r = rho(fs.values, fs.used_values)
        assume(r >= min_rho)
        return FactSet(fs.keys, fs.values, fs.mapping, meta={**fs.meta, "rho": float(r)})

    return _draw()


@dataclass(frozen=True, eq=False)
class DegenerateCase:
    """One degenerate input and what a correct pipeline must do with it.

    Attributes
    ----------
    kind : one of :data:`DEGENERATE_KINDS`
    keys, values, mapping : the raw arrays (K (F, d), V (N, d), f (F,))
    factset : the :class:`FactSet` built from them, or ``None`` where no
        FactSet can exist (``nonfinite``: the constructor itself must raise)
    expected_error : the exception type that MUST be raised (by ``FactSet``
        for ``nonfinite``, by ``construct`` for infeasible values), or ``None``
        where a typed :class:`~factmlp.errors.FactMLPError` is allowed but a
        result is acceptable too (then the verifier's verdict counts)
    offending : the offending indices the error must name (``indices``)
    index_kind : what ``offending`` indexes: ``"facts"``, ``"values"``,
        ``"key rows"`` or ``"value rows"``
    storable : ``False`` where no function can store every fact
        (two equal keys mapped to different values), so a certified
        "all stored" is impossible
    seed : the seed the arrays were built from
    """

    kind: str
    keys: np.ndarray
    values: np.ndarray
    mapping: np.ndarray
    factset: FactSet | None
    expected_error: type[BaseException] | None
    offending: tuple[int, ...]
    index_kind: str
    storable: bool
    seed: int

    @property
    def allowed_error(self) -> type[BaseException]:
        """The exception type accepted: ``expected_error`` if set, else any typed factmlp error."""
        return self.expected_error or FactMLPError

    def __repr__(self) -> str:
        f, d = self.keys.shape
        return (
            f"DegenerateCase(kind={self.kind!r}, F={f}, N={self.values.shape[0]}, d={d}, "
            f"seed={self.seed}, offending {self.index_kind} {list(self.offending)}, "
            f"expected_error={getattr(self.expected_error, '__name__', None)})"
        )


def _spherical(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    return make_embeddings("spherical", n, d, rng)


def _build_case(kind: str, d: int, n_facts: int, n_values: int, seed: int) -> DegenerateCase:
    """The arrays of one degenerate case (see :func:`degenerate_fact_sets` for the math)."""
    rng = np.random.default_rng(seed)
    keys = _spherical(n_facts, d, rng)
    vals = _spherical(n_values, d, rng)
    mapping = rng.integers(0, n_values, size=n_facts).astype(np.int64)
    expected: type[BaseException] | None = None
    offending: tuple[int, ...]
    storable, index_kind = True, "facts"
    if kind == "duplicate_keys_conflicting":
        a, b = (int(i) for i in rng.choice(n_facts, size=2, replace=False))
        mapping[b] = (mapping[a] + 1 + rng.integers(0, n_values - 1)) % n_values
        keys[b] = keys[a]
        offending, storable = (min(a, b), max(a, b)), False
    elif kind == "duplicate_values":
        j = int(mapping[0])
        k = int((j + 1 + rng.integers(0, n_values - 1)) % n_values)
        vals[k] = vals[j]
        used = set(mapping.tolist())
        offending = tuple(sorted(i for i in (j, k) if i in used))
        expected, index_kind = InfeasibleFactSetError, "values"
    elif kind == "interior_value":
        j = int(mapping[0])
        others = np.delete(np.arange(n_values), j)
        m = int(rng.integers(2, len(others) + 1))
        support = rng.choice(others, size=m, replace=False)
        vals[j] = rng.dirichlet(np.ones(m)) @ vals[support]
        offending, expected, index_kind = (j,), InfeasibleFactSetError, "values"
    elif kind == "nonfinite":
        bad = rng.choice(np.array([np.nan, np.inf, -np.inf]))
        target = keys if rng.integers(0, 2) == 0 else vals
        row = int(rng.integers(0, target.shape[0]))
        target[row, int(rng.integers(0, d))] = bad
        offending, expected = (row,), NonFiniteError
        index_kind = "key rows" if target is keys else "value rows"
    elif kind == "keys_in_subspace":
        r = int(rng.integers(1, d))
        basis, _ = np.linalg.qr(rng.standard_normal((d, r)))
        keys = keys @ basis @ basis.T
        keys /= np.linalg.norm(keys, axis=1, keepdims=True)
        offending = tuple(range(n_facts))
    else:  # pragma: no cover - guarded by the caller
        raise InvalidInputError(f"unknown degenerate kind {kind!r}; expected one of {DEGENERATE_KINDS}")
    fs = None if kind == "nonfinite" else FactSet(keys, vals, mapping, meta={"degenerate": kind, "seed": seed})
    return DegenerateCase(
        kind, keys, vals, mapping, fs, expected, tuple(int(i) for i in offending), index_kind, storable, seed
    )


def degenerate_fact_sets(
    kind: str | st.SearchStrategy = st.sampled_from(DEGENERATE_KINDS),
    *,
    d: int | st.SearchStrategy = st.integers(3, 6),
    facts: int | st.SearchStrategy = st.integers(2, 10),
    values: int | st.SearchStrategy = st.integers(3, 8),
) -> st.SearchStrategy[DegenerateCase]:
    """Degenerate inputs, each a :class:`DegenerateCase` naming the error it must cause.

    The base is a spherical fact set (keys and values uniform on ``S^{d-1}``,
    so every value is a vertex of ``conv(V)``; a random map ``f``), then:

    ``duplicate_keys_conflicting``
        ``k_b := k_a`` for two facts with ``f(a) != f(b)``.  Then
        ``g(k_a) = g(k_b)`` for every g, and storing both needs
        ``<g(k_a), v_f(a) - v_f(b)> > 0`` and ``< 0``: impossible.  No error
        is required (``DegenerateKeysError`` is allowed), but a certified
        "all stored" is wrong (``storable=False``); offending: facts (a, b).
    ``duplicate_values``
        ``v_k := v_j`` with j = f(0) used: ``rho_j = 0`` (not decodable).
        ``construct`` must raise ``InfeasibleFactSetError`` naming the used
        values among (j, k).
    ``interior_value``
        ``v_j := sum_l lambda_l v_l`` (lambda Dirichlet, >= 2 other values),
        j = f(0): ``v_j`` lies in the hull of the others, ``rho_j = 0``;
        ``InfeasibleFactSetError`` naming j.
    ``nonfinite``
        one NaN or +-inf entry in a key or value row.  No ``FactSet`` can
        hold it (``factset`` is ``None``, use the raw arrays): the
        constructor must raise ``NonFiniteError`` naming the row.
    ``keys_in_subspace``
        keys projected onto a random r-dimensional subspace (1 <= r < d)
        and renormalized: the linear systems of the constructions lose rank
        (THEORY_NOTES section 3, measure zero).  A typed error or a result
        is acceptable; if a result, the verifier decides.

    ``d`` >= 2 (a proper subspace must exist), ``facts`` >= 2, ``values`` >= 3
    (an interior value needs two others), each a value or a strategy.
    """
    if not isinstance(kind, st.SearchStrategy) and kind not in DEGENERATE_KINDS:
        raise InvalidInputError(f"unknown degenerate kind {kind!r}; expected one of {DEGENERATE_KINDS}")
    _check_positive(d, "d", 2)
    _check_positive(facts, "facts", 2)
    _check_positive(values, "values", 3)
    kind_s, d_s, f_s, v_s = (
        _as_strategy(kind, "kind"),
        _as_strategy(d, "d"),
        _as_strategy(facts, "facts"),
        _as_strategy(values, "values"),
    )

    @st.composite
    def _draw(draw: Any) -> DegenerateCase:
        k = draw(kind_s)
        if k not in DEGENERATE_KINDS:
            raise InvalidInputError(f"unknown degenerate kind {k!r}; expected one of {DEGENERATE_KINDS}")
        dim, n_facts, n_values = int(draw(d_s)), int(draw(f_s)), int(draw(v_s))
        if dim < 2 or n_facts < 2 or n_values < 3:
            raise InvalidInputError(
                f"degenerate_fact_sets needs d >= 2, facts >= 2, values >= 3; drew d={dim}, "
                f"facts={n_facts}, values={n_values}"
            )
        return _build_case(k, dim, n_facts, n_values, int(draw(_SEEDS)))

    return _draw()
