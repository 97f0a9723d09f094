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

__all__ = [
    "Method",
    "Built",
    "Construction",
    "METHODS",
    "POLISH_SUFFIX",
    "register_method",
    "get_method",
    "resolve_method",
    "construct",
    "feasibility",
]

#: a method spec ``"M+polish"`` runs method ``M`` then :func:`factmlp.polish.polish`
POLISH_SUFFIX = "+polish"


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
    the capacity search (``None``: every integer); ``partial_options`` are
    the options that make the builder return its uncertified MLP instead of
    raising when it fails to certify (``None``: it never raises for that),
    merged in when the MLP is handed to :func:`factmlp.polish.polish`.
    """

    name: str
    builder: Callable[..., Any]
    default_hidden: Callable[..., int]
    guarantee: bool | Callable[..., bool] = False
    param_bound: Callable[..., int] | None = None
    widths: Callable[..., Any] | None = None
    needs_torch: bool = False
    description: str = ""
    partial_options: dict | None = None

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
    polish: dict | None = None

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
            "polish": None if self.polish is None else dict(self.polish),
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
    partial_options: dict | None = None,
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
        None if partial_options is None else dict(partial_options),
    )
    METHODS[name] = method
    return method


def get_method(name: str) -> Method:
    """The registered :class:`Method` called ``name`` (``InvalidInputError`` naming the known ones)."""
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        raise InvalidInputError(f"unknown method {name!r}; known: {sorted(METHODS)}") from None


def _polish_options(polish: Any, spec: str) -> dict | None:
    if polish is None or polish is False:
        return None
    if polish is True:
        return {}
    if isinstance(polish, dict):
        return dict(polish)
    raise InvalidInputError(f"polish for method {spec!r} must be a bool or a dict of polish options, got {polish!r}")


def resolve_method(spec: Any, polish: Any = None) -> tuple[Method, dict | None]:
    """Parse a method spec: ``"M"`` -> ``(METHODS["M"], None)``, ``"M+polish"`` -> ``(METHODS["M"], {})``.

    ``polish`` (``True`` or a dict of :func:`factmlp.polish.polish` options)
    asks for polishing on top of a plain ``"M"``; with ``"M+polish"`` a dict
    gives the polish options (``None`` and ``False`` ask for nothing more).
    The second item is ``None`` when no polish is asked for.  Raises
    :class:`~factmlp.errors.InvalidInputError` naming the spec for a
    non-string, an unknown base method or a malformed suffix.
    """
    if not isinstance(spec, str) or not spec:
        raise InvalidInputError(f"method spec must be a non-empty string, got {spec!r}")
    base = spec
    polish_opts = _polish_options(polish, spec)
    if spec.endswith(POLISH_SUFFIX):
        base = spec[: -len(POLISH_SUFFIX)]
        if polish_opts is None:
            polish_opts = {}
    if not base or "+" in base:
        raise InvalidInputError(
            f"bad method spec {spec!r}: expected a method name, optionally followed by {POLISH_SUFFIX!r} once"
        )
    if base not in METHODS:
        raise InvalidInputError(f"unknown method {base!r} in spec {spec!r}; known: {sorted(METHODS)}")
    return METHODS[base], polish_opts


def method_label(spec: str, polish: Any = None) -> str:
    """The label results carry for a spec: ``"M"`` or ``"M+polish"``."""
    m, polish_opts = resolve_method(spec, polish)
    return m.name + (POLISH_SUFFIX if polish_opts is not None else "")


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
    polish: Any = None,
    **options: Any,
) -> Construction:
    """Build an MLP that stores ``factset`` with ``method``.

    Parameters
    ----------
    factset : :class:`~factmlp.factset.FactSet` with keys ``K`` (F x d), values
        ``V`` (N x d) and map ``f``
    method : a name in :data:`METHODS` (``encdec``, ``hebbian``, ``ntk``, ``gd``, ...),
        or ``"M+polish"`` (see :func:`resolve_method`)
    hidden : hidden width ``h``; ``None`` takes the method's default (the
        smallest width its guarantee covers).  An explicit width may be too
        small to store everything: that is a result the verifier reports,
        not an error.
    seed : int or ``numpy.random.Generator`` for every random choice
    polish : ``True`` or a dict of :func:`factmlp.polish.polish` options:
        polish the built MLP (same as the spec ``"M+polish"``).  The builder
        then gets the method's ``partial_options`` too (a method that raises
        when it fails to certify hands over its uncertified MLP instead), and
        the result's ``polish`` records ``stored_before`` / ``stored_after``
        (certified counts of :func:`~factmlp.verify.verify_storage`) and the
        polish seconds; ``seconds`` includes the polish.
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
    m, polish_opts = resolve_method(method, polish)
    label = m.name + (POLISH_SUFFIX if polish_opts is not None else "")
    seed_int = _check_seed_arg(seed)
    feasibility(factset)
    theory_hidden = _check_hidden(m.default_hidden(factset, **options))
    h = theory_hidden if hidden is None else _check_hidden(hidden)
    build_options = dict(options)
    if polish_opts is not None and m.partial_options:
        build_options.update(m.partial_options)
    t0 = time.perf_counter()
    out = m.builder(factset, h, seed, **build_options)
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
    polish_record = None
    if polish_opts is not None:
        from ..polish import polish as _polish
        from ..verify import verify_storage

        p0 = time.perf_counter()
        before = verify_storage(mlp, factset)
        mlp, after = _polish(mlp, factset, seed=seed, **polish_opts)
        p_sec = time.perf_counter() - p0
        seconds += p_sec
        polish_record = {
            "stored_before": int(before.stored),
            "stored_after": int(after.stored),
            "total": int(after.total),
            "seconds": p_sec,
        }
    return Construction(
        method=label,
        mlp=mlp,
        hidden=h,
        params=mlp.n_params,
        params_factored=None if polish_opts is not None else built.params_factored,
        theory_hidden=theory_hidden,
        param_bound=bound,
        seed=seed_int,
        seconds=seconds,
        factored=None if polish_opts is not None else built.factored,
        info=dict(built.info),
        polish=polish_record,
    )
