"""The method registry and :func:`construct`, the one entry point of every construction.

A method is a builder

    builder(factset, hidden, seed, **options) -> GatedMLP | Built

that returns a gated MLP ``g(x) = W_down (act(W_gate x) * (W_up x))`` of
hidden width ``hidden`` meant to store ``factset``; :func:`construct`
validates the input once (fact set type, feasibility, width, seed), calls
the builder, and wraps the result in a :class:`Construction` with parameter
counts and timings.  Whether the facts are stored is decided by
:func:`factmlp.verify.verify_storage`, never by the builder.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInputError
from ..factset import FactSet
from ..mlp import GatedMLP

__all__ = ["Method", "Built", "Construction", "METHODS", "register_method", "get_method", "construct", "feasibility"]


@dataclass(frozen=True)
class Method:
    """A registered construction method.

    ``default_hidden(factset, **options) -> int`` is the smallest width the
    method's guarantee covers (or its customary width when it has none);
    ``guarantee`` (a bool, or ``guarantee(factset, **options) -> bool``) says
    whether the method claims to store every fact of a generic feasible fact
    set at that width (``check_construction`` holds it to that);
    ``param_bound(factset, hidden, **options) -> int`` is the theory's
    parameter count for the folded MLP (``None``: no bound);
    ``widths(factset, **options)`` lists the widths that are meaningful for
    the capacity search (``None``: every integer).
    """

    name: str
    builder: Callable[..., Any]
    default_hidden: Callable[..., int]
    guarantee: bool | Callable[..., bool] = False
    param_bound: Callable[..., int] | None = None
    widths: Callable[..., Any] | None = None
    needs_torch: bool = False
    description: str = ""

    def guarantees(self, factset: FactSet, **options: Any) -> bool:
        """Whether the method claims to store every fact of this (generic, feasible) set at its default width."""
        g = self.guarantee
        return bool(g(factset, **options)) if callable(g) else bool(g)


@dataclass(frozen=True)
class Built:
    """What a builder may return instead of a bare MLP: the MLP plus its factored form."""

    mlp: GatedMLP
    params_factored: int | None = None
    factored: dict | None = None
    info: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Construction:
    """A constructed MLP and its bookkeeping.

    ``mlp`` is the folded gated MLP (hidden width ``hidden``, ``params = 3 d
    hidden``), ready for a Transformer's MLP slot; ``factored`` holds the
    factored arrays where the method has a factored form (``params_factored``
    their count); ``theory_hidden`` is the width the method's guarantee asks
    for, ``param_bound`` the theory's count at the width used.
    """

    method: str
    mlp: GatedMLP
    hidden: int
    params: int
    params_factored: int | None
    theory_hidden: int
    param_bound: int | None
    seed: int | None
    seconds: float
    factored: dict | None = None
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready summary (no arrays)."""
        return {
            "method": self.method,
            "hidden": self.hidden,
            "params": self.params,
            "params_factored": self.params_factored,
            "theory_hidden": self.theory_hidden,
            "param_bound": self.param_bound,
            "seed": self.seed,
            "seconds": self.seconds,
        }


METHODS: dict[str, Method] = {}


def _as_width_fn(value: Any) -> Callable[..., int]:
    if callable(value):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or int(value) < 1:
        raise InvalidInputError(f"default_hidden must be a positive int or a callable, got {value!r}")
    fixed = int(value)
    return lambda factset, **options: fixed


def register_method(
    name: str,
    builder: Callable[..., Any],
    *,
    default_hidden: int | Callable[..., int],
    guarantee: bool | Callable[..., bool] = False,
    param_bound: Callable[..., int] | None = None,
    widths: Callable[..., Any] | None = None,
    needs_torch: bool = False,
    description: str = "",
    replace: bool = False,
) -> Method:
    """Register ``builder`` under ``name`` (see :class:`Method` for the fields).

    Registering an existing name raises ``ValueError`` unless ``replace=True``.
    """
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"method name must be a non-empty string, got {name!r}")
    if not callable(builder):
        raise InvalidInputError(f"builder for {name!r} is not callable")
    if name in METHODS and not replace:
        raise ValueError(f"method {name!r} is already registered (pass replace=True to override)")
    method = Method(
        name,
        builder,
        _as_width_fn(default_hidden),
        guarantee if callable(guarantee) else bool(guarantee),
        param_bound,
        widths,
        bool(needs_torch),
        description,
    )
    METHODS[name] = method
    return method


def get_method(name: str) -> Method:
    """The registered :class:`Method` called ``name`` (``InvalidInputError`` naming the known ones)."""
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        raise InvalidInputError(f"unknown method {name!r}; known: {sorted(METHODS)}") from None


# ---- feasibility, cached per fact set ------------------------------------------
_FEAS_CACHE: OrderedDict[tuple, Any] = OrderedDict()
_FEAS_CACHE_SIZE = 8


def feasibility(factset: FactSet, tol: float = 1e-9) -> Any:
    """:func:`factmlp.feasibility.check_feasible` with a small cache keyed by the fact set's bytes.

    Returns the :class:`~factmlp.decodability.DecodabilityResult` of the used
    values (``directions[j]`` is the margin-optimal readout ``u*_j``); raises
    :class:`~factmlp.errors.InfeasibleFactSetError` listing every used value
    that cannot be decoded.  The capacity search calls :func:`construct` many
    times on one fact set; the cache makes that one solve.
    """
    from ..feasibility import check_feasible

    key = (factset.fingerprint(), float(tol))
    if key in _FEAS_CACHE:
        _FEAS_CACHE.move_to_end(key)
        return _FEAS_CACHE[key]
    res = check_feasible(factset, tol=tol)
    _FEAS_CACHE[key] = res
    while len(_FEAS_CACHE) > _FEAS_CACHE_SIZE:
        _FEAS_CACHE.popitem(last=False)
    return res


def _check_hidden(hidden: Any) -> int:
    if isinstance(hidden, (bool, np.bool_)) or not isinstance(hidden, (int, np.integer)):
        raise InvalidInputError(f"hidden must be a positive int, got {hidden!r}")
    if int(hidden) < 1:
        raise InvalidInputError(f"hidden must be >= 1, got {hidden}")
    return int(hidden)


def _check_seed_arg(seed: Any) -> int | None:
    if isinstance(seed, np.random.Generator):
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise InvalidInputError(f"seed must be an int or numpy.random.Generator, got {seed!r}")
    if int(seed) < 0:
        raise InvalidInputError(f"seed must be >= 0, got {seed}")
    return int(seed)


def construct(
    factset: FactSet,
    method: str,
    hidden: int | None = None,
    seed: Any = 0,
    **options: Any,
) -> Construction:
    """Build an MLP that stores ``factset`` with ``method``.

    Parameters
    ----------
    factset : :class:`~factmlp.factset.FactSet` with keys ``K`` (F x d), values
        ``V`` (N x d) and map ``f``
    method : a name in :data:`METHODS` (``encdec``, ``hebbian``, ``ntk``, ``gd``, ...)
    hidden : hidden width ``h``; ``None`` takes the method's default (the
        smallest width its guarantee covers).  An explicit width may be too
        small to store everything: that is a result the verifier reports,
        not an error.
    seed : int or ``numpy.random.Generator`` for every random choice
    options : method-specific options, passed to the builder

    Notes
    -----
    Raises :class:`~factmlp.errors.InfeasibleFactSetError` before any work
    when a used value is not decodable, :class:`~factmlp.errors.InvalidInputError`
    for a bad method, width, seed or option, and
    :class:`~factmlp.errors.DegenerateKeysError` where the method's linear
    system is singular for these keys.
    """
    if not isinstance(factset, FactSet):
        raise InvalidInputError(f"factset must be a factmlp.FactSet, got {type(factset).__name__}")
    m = get_method(method)
    seed_int = _check_seed_arg(seed)
    feasibility(factset)
    theory_hidden = _check_hidden(m.default_hidden(factset, **options))
    h = theory_hidden if hidden is None else _check_hidden(hidden)
    t0 = time.perf_counter()
    out = m.builder(factset, h, seed, **options)
    seconds = time.perf_counter() - t0
    built = out if isinstance(out, Built) else Built(out)
    mlp = built.mlp
    if not isinstance(mlp, GatedMLP):
        raise TypeError(f"builder of {method!r} returned {type(mlp).__name__}, expected GatedMLP or Built")
    if mlp.dim != factset.dim or mlp.hidden != h:
        raise RuntimeError(
            f"builder of {method!r} returned an MLP of shape (d={mlp.dim}, h={mlp.hidden}); "
            f"asked for (d={factset.dim}, h={h})"
        )
    bound = None if m.param_bound is None else int(m.param_bound(factset, h, **options))
    return Construction(
        method=method,
        mlp=mlp,
        hidden=h,
        params=mlp.n_params,
        params_factored=built.params_factored,
        theory_hidden=theory_hidden,
        param_bound=bound,
        seed=seed_int,
        seconds=seconds,
        factored=built.factored,
        info=dict(built.info),
    )
