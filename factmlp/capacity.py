"""Capacity search: the minimum hidden width at which a method stores every fact.

For a fact set ``(K, V, f)`` with F facts, N values in ``R^d``, and a method
``M`` (a name registered in :mod:`factmlp.constructions`), the capacity width is

    h*(M) = min { h >= 1 : verify_storage(construct(K, V, f; M, h)) certifies F/F facts }.

From ``h*`` follow ``params = 3 d h*`` (the gated MLP, folded form),
``facts_per_param = F / params``, ``bits_per_param = F log2 N / params`` and
``ratio_counting = params / (F log2 N / 32)``: the ratio to the counting
lower bound with 32 bits per parameter (THEORY_NOTES section 3).

**Monotonicity is assumed**: if the method stores every fact at width h, it
does so at every width h' > h.  Under that assumption the search below
(exponential, then binary) returns the exact minimum over the probed grid; a
method that is not monotone (randomised constructions, GD) may have smaller
storing widths that the search skips.  Every probe is recorded so a reader can
check.  A method may expose its meaningful widths (e.g. encdec's ``h = m *
ceil(F/d)`` structure) through a ``widths(factset, **options)`` callable on its
registry entry or in ``options``; the search then runs over that sorted list.
A construction that rejects a width as structurally too small (raising
:class:`~factmlp.errors.InvalidInputError`) counts as "not stored" there.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .errors import ConvergenceError, InvalidInputError

__all__ = [
    "Probe",
    "CapacityResult",
    "CapacitySummary",
    "search_min_width",
    "min_width",
    "capacity",
    "counting_bound",
    "valid_widths",
    "probe_width",
]

#: bits per parameter of the reference counting bound (float32 weights)
BITS_FP32 = 32.0


def counting_bound(n_facts: int, n_values: int, bits_per_param: float = BITS_FP32) -> float:
    """``F log2 N / b``: fewest parameters of b bits that can store every map [F] -> [N].

    Uses the numeric twin in :mod:`theory.counting` when importable, else the
    same formula inline (identical value).
    """
    try:
        from theory.counting import param_lower_bound
    except ImportError:  # pragma: no cover - theory/ ships with the source tree
        if n_facts < 1 or n_values < 1 or not bits_per_param > 0:
            raise InvalidInputError(
                f"counting bound needs F, N >= 1 and b > 0, got {n_facts}, {n_values}, {bits_per_param}"
            ) from None
        return n_facts * math.log2(n_values) / bits_per_param
    return param_lower_bound(int(n_facts), int(n_values), float(bits_per_param))


@dataclass(frozen=True)
class Probe:
    """One probe of the search: width ``hidden``, whether all F facts were certified
    stored, how many were (``n_stored`` of ``total``), wall time, and the
    construction's error when it rejected the width (then ``stored`` is False)."""

    hidden: int
    stored: bool
    n_stored: int
    total: int
    seconds: float
    construct_seconds: float = float("nan")
    error: str | None = None


@dataclass
class CapacityResult:
    """Outcome of :func:`min_width` for one (fact set, method, seed).

    ``h_star`` is ``None`` (and the derived numbers NaN) when no probed width
    up to ``hi`` stored every fact (``status == "not_found"``).
    """

    method: str
    seed: int
    d: int
    n_facts: int
    n_values: int
    h_star: int | None
    params: int | None
    params_factored: int | None
    facts_per_param: float
    bits_per_param: float
    counting_bound: float
    ratio_counting: float
    rho: float
    seconds: float
    construct_seconds: float
    status: str
    probes: list[Probe] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """A JSON-ready dict (probes as a list of dicts)."""
        out = asdict(self)
        out["probes"] = [asdict(p) for p in self.probes]
        return out


@dataclass
class CapacitySummary:
    """:func:`capacity` over several construction seeds on one fact set.

    ``h_star`` statistics are over the seeds where a storing width was found.
    """

    method: str
    seeds: list[int]
    results: list[CapacityResult]
    h_star_min: int | None
    h_star_median: float
    h_star_max: int | None
    params_median: float
    facts_per_param_median: float
    bits_per_param_median: float
    ratio_counting_median: float
    n_found: int

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        out = {k: v for k, v in asdict(self).items() if k != "results"}
        out["results"] = [r.to_dict() for r in self.results]
        return out


def search_min_width(
    stores: Callable[[int], bool],
    *,
    lo: int = 1,
    hi: int,
    start: int | None = None,
    candidates: Sequence[int] | None = None,
) -> tuple[int | None, list[int]]:
    """Smallest ``h`` in the grid with ``stores(h)`` True, assuming monotonicity.

    The grid is ``candidates`` (sorted, de-duplicated, restricted to
    ``[lo, hi]``) or the integers ``lo..hi``.  Exponential phase: from the
    grid index of ``start`` (default the first) double the step upward until
    a storing width is found (or step downward by halving while the start
    stores); then binary search between the last failing and first storing
    index.  Each width is probed at most once.  Returns ``(h*, probed widths
    in order)``; ``h* = None`` when even the top of the grid fails.
    """
    if candidates is None:
        if lo < 1 or hi < lo:
            raise InvalidInputError(f"width search needs 1 <= lo <= hi, got lo={lo}, hi={hi}")
        grid = None
        n = hi - lo + 1
        width_at = lambda i: lo + i  # noqa: E731
    else:
        grid = sorted({int(c) for c in candidates if lo <= int(c) <= hi})
        if not grid:
            raise InvalidInputError(f"no candidate width in [{lo}, {hi}]")
        n = len(grid)
        width_at = grid.__getitem__
    seen: dict[int, bool] = {}
    order: list[int] = []

    def ok(i: int) -> bool:
        h = width_at(i)
        if h not in seen:
            seen[h] = bool(stores(h))
            order.append(h)
        return seen[h]

    if start is None:
        i0 = 0
    elif grid is None:
        i0 = min(max(int(start) - lo, 0), n - 1)
    else:
        i0 = int(np.searchsorted(grid, int(start)))
        i0 = min(i0, n - 1)
    # invariant once set: bad < good, ok(bad) False (or bad == -1), ok(good) True
    good: int | None
    if ok(i0):
        good, step, bad = i0, 1, -1
        while good > 0:
            j = max(good - step, 0)
            if ok(j):
                good, step = j, step * 2
            else:
                bad = j
                break
    else:
        bad, step, good = i0, 1, None
        while good is None:
            if bad == n - 1:
                return None, order
            j = min(bad + step, n - 1)
            if ok(j):
                good = j
            else:
                bad, step = j, step * 2
    while good - bad > 1:
        mid = (bad + good) // 2
        if ok(mid):
            good = mid
        else:
            bad = mid
    return width_at(good), order


def valid_widths(factset: Any, method: str, options: dict | None = None) -> list[int] | None:
    """The widths a method declares meaningful for ``factset``, or ``None``.

    Looked up as ``options["widths"]`` (a sequence or a callable
    ``widths(factset, **options)``), else a ``widths`` attribute of the
    method's registry entry in ``factmlp.constructions.METHODS`` (for a spec
    ``"M+polish"``, the entry of ``M``).
    """
    options = dict(options or {})
    w = options.pop("widths", None)
    if w is None:
        try:
            from .constructions import METHODS, resolve_method
        except ImportError:
            return None
        try:
            entry: Any = resolve_method(method)[0]
        except InvalidInputError:
            entry = METHODS.get(method) if hasattr(METHODS, "get") else None
        w = getattr(entry, "widths", None) or getattr(entry, "valid_widths", None)
        if w is None and isinstance(entry, dict):
            w = entry.get("widths") or entry.get("valid_widths")
    if w is None:
        return None
    if callable(w):
        w = w(factset, **options)
    return sorted({int(x) for x in w})


def probe_width(factset: Any, method: str, hidden: int, seed: Any, **options: Any) -> tuple[Probe, Any]:
    """Construct at width ``hidden`` and certify: ``(Probe, Construction or None)``.

    ``Probe.stored`` is True only when :func:`factmlp.verify.verify_storage`
    certifies all F facts of ``construct(factset, method, hidden, seed,
    **options)``.  A width the construction rejects
    (:class:`~factmlp.errors.InvalidInputError`) or a solver that could not
    certify there (:class:`~factmlp.errors.ConvergenceError`) is a probe
    with ``stored=False`` and the error recorded, and no construction;
    infeasible fact sets propagate.  The one width probe of the capacity
    search and of :func:`factmlp.minimize.minimize`.
    """
    from .constructions import construct
    from .verify import verify_storage

    p0 = time.perf_counter()
    try:
        c = construct(factset, method, hidden=hidden, seed=seed, **options)
    except (InvalidInputError, ConvergenceError) as exc:
        probe = Probe(
            int(hidden), False, 0, factset.n_facts, time.perf_counter() - p0, error=f"{type(exc).__name__}: {exc}"
        )
        return probe, None
    c_sec = time.perf_counter() - p0
    report = verify_storage(c.mlp, factset)
    ok, n_stored, total = bool(report.certified), int(report.stored), int(report.total)
    return Probe(int(hidden), ok, n_stored, total, time.perf_counter() - p0, c_sec), c


def _default_hi(factset: Any) -> int:
    # Interpolation needs at most one hidden unit per fact for the constructions
    # we know; 2F (+ slack for tiny sets) bounds the search.
    return max(2 * int(factset.n_facts), 16)


def min_width(
    factset: Any,
    method: str,
    seed: int = 0,
    *,
    lo: int = 1,
    hi: int | None = None,
    start: int | None = None,
    rho: float | None = None,
    on_probe: Callable[[Probe], None] | None = None,
    **options: Any,
) -> CapacityResult:
    """Minimum hidden width ``h*`` at which ``construct(factset, method, h, seed)`` stores all facts.

    Parameters
    ----------
    factset : FactSet with F facts, N values in R^d
    method : a name in ``factmlp.constructions.METHODS``, or ``"M+polish"``
    seed : construction seed (the fact set is fixed)
    lo, hi : search range (``hi`` defaults to ``max(2F, 16)``)
    start : first width probed (the exponential phase goes up or down from it)
    rho : decodability of the used values, if already known (else computed)
    on_probe : called with each :class:`Probe` as soon as it is certified (or
        refused), so a long search can report progress or keep partial results
    options : passed to ``construct`` (``widths=`` is taken by the search)

    Notes
    -----
    Returns a :class:`CapacityResult`: ``h*``, ``params = 3 d h*``,
    ``F / params``, ``F log2 N / params``, ``params / (F log2 N / 32)``,
    rho, wall time and every probe.  Stored means every fact certified by
    :func:`factmlp.verify.verify_storage`; monotonicity in h is assumed.
    """
    from .constructions import method_label

    method = method_label(
        method, options.get("polish")
    )  # an unknown or malformed spec is an error, not "no storing width"
    t0 = time.perf_counter()
    options = dict(options)
    cands = valid_widths(factset, method, options)
    options.pop("widths", None)
    hi = _default_hi(factset) if hi is None else int(hi)
    probes: dict[int, Probe] = {}
    built: dict[int, Any] = {}

    def stores(h: int) -> bool:
        probes[h], c = probe_width(factset, method, h, seed, **options)
        if on_probe is not None:
            on_probe(probes[h])
        if probes[h].stored:
            built[h] = c
        return probes[h].stored

    h_star, order = search_min_width(stores, lo=lo, hi=hi, start=start, candidates=cands)
    if rho is None:
        from .decodability import rho as _rho

        rho = float(_rho(factset.values, factset.used_values))
    F, N, d = factset.n_facts, factset.n_values, factset.dim
    bound = counting_bound(F, N)
    nan = float("nan")
    if h_star is None:
        params = pf = None
        fpp = bpp = ratio = c_sec = nan
        status, info = "not_found", {}
    else:
        c = built[h_star]
        params = 3 * d * h_star
        pf = getattr(c, "params_factored", None)
        pf = None if pf is None else int(pf)
        fpp = F / params
        bpp = F * math.log2(N) / params
        ratio = params / bound
        c_sec = probes[h_star].construct_seconds
        status = "ok"
        info = dict(getattr(c, "info", {}) or {})
    return CapacityResult(
        method=method,
        seed=int(seed),
        d=d,
        n_facts=F,
        n_values=N,
        h_star=h_star,
        params=params,
        params_factored=pf,
        facts_per_param=fpp,
        bits_per_param=bpp,
        counting_bound=bound,
        ratio_counting=ratio,
        rho=float(rho),
        seconds=time.perf_counter() - t0,
        construct_seconds=c_sec,
        status=status,
        probes=[probes[h] for h in order],
        info=info,
    )


def capacity(
    factset: Any,
    method: str,
    seeds: Sequence[int] = (0, 1, 2),
    **kwargs: Any,
) -> CapacitySummary:
    """:func:`min_width` for each construction seed on the same fact set, summarised.

    rho is computed once and shared.  Medians are over the seeds that found a
    storing width (NaN when none did).
    """
    if "rho" not in kwargs or kwargs["rho"] is None:
        from .decodability import rho as _rho

        kwargs["rho"] = float(_rho(factset.values, factset.used_values))
    results = [min_width(factset, method, int(s), **kwargs) for s in seeds]
    found = [r for r in results if r.h_star is not None]

    def med(key: str) -> float:
        vals = [float(getattr(r, key)) for r in found]
        return float(np.median(vals)) if vals else float("nan")

    hs = [r.h_star for r in results if r.h_star is not None]
    return CapacitySummary(
        method=method,
        seeds=[int(s) for s in seeds],
        results=results,
        h_star_min=min(hs) if hs else None,
        h_star_median=med("h_star"),
        h_star_max=max(hs) if hs else None,
        params_median=med("params"),
        facts_per_param_median=med("facts_per_param"),
        bits_per_param_median=med("bits_per_param"),
        ratio_counting_median=med("ratio_counting"),
        n_found=len(found),
    )
