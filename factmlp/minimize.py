"""``minimize``: the smallest hidden width at which a method's MLP is certified to store every fact.

For a fact set ``(K, V, f)`` (F facts, N values in ``R^d``), a method spec
``M`` (a registered name, or ``"M+polish"``) and a seed ``s``, let

    S(h) = [verify_storage(construct(K, V, f; M, h, s)) certifies F/F facts]

(:func:`factmlp.capacity.probe_width`).  :func:`minimize` returns the
smallest ``h`` in ``[lo, hi]`` it finds with ``S(h)`` true:

1. **bisection** (:func:`factmlp.capacity.search_min_width`, warm-started at
   the method's default width, exponential then binary) finds ``h_b`` with
   ``S(h_b)`` and ``not S(h')`` at the probed ``h'`` just below it.  This is
   the exact minimum when ``S`` is monotone in ``h``;
2. **probe window**: ``S`` is not monotone for random methods (seeded gates,
   GD), so the ``window`` widths of the grid just below the current best are
   probed too; a storing one becomes the new best and the window moves below
   it, until ``window`` consecutive widths below the best all fail.

``S`` is evaluated at most once per width (every probe is recorded).  The
MLP at the chosen width is verified again with
:func:`factmlp.verify.verify_storage` before it is returned; if no width in
range is certified, :class:`~factmlp.errors.NoCertifiedWidthError` is raised
-- an uncertified MLP is never returned.  Deterministic under the seed:
every probe uses the same integer seed.

Reported: ``params = 3 d h`` (the folded gated MLP) and
``bits_per_param = F log2 N / params``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from .capacity import Probe, _default_hi, probe_width, search_min_width, valid_widths
from .errors import InvalidInputError, NoCertifiedWidthError
from .factset import FactSet
from .mlp import GatedMLP

__all__ = ["MinimizeResult", "minimize"]


@dataclass
class MinimizeResult:
    """Outcome of :func:`minimize`: the certified MLP at the smallest width found, and every probe.

    ``stored == total`` always (the result is certified); ``seconds`` is the
    wall time of the whole search; ``probes`` are in the order run.
    """

    method: str
    hidden: int
    params: int
    bits_per_param: float
    stored: int
    total: int
    seconds: float
    mlp: GatedMLP
    seed: int = 0
    probes: list[Probe] = field(default_factory=list)

    def to_json(self) -> dict:
        """``{"method", "hidden", "params", "bits_per_param", "stored", "total", "seconds"}``."""
        return {
            "method": self.method,
            "hidden": int(self.hidden),
            "params": int(self.params),
            "bits_per_param": float(self.bits_per_param),
            "stored": int(self.stored),
            "total": int(self.total),
            "seconds": float(self.seconds),
        }


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def minimize(
    factset: FactSet,
    method: str,
    *,
    polish: Any = False,
    seed: int,
    window: int = 4,
    lo: int | None = None,
    hi: int | None = None,
    **options: Any,
) -> MinimizeResult:
    """Smallest certified width of ``method`` on ``factset`` (see the module docstring for the search).

    Parameters
    ----------
    factset : FactSet with F facts, N values in R^d
    method : a registered method name, or ``"M+polish"``
    polish : ``True`` or a dict of :func:`factmlp.polish.polish` options:
        polish at every probed width (same as the spec ``"M+polish"``)
    seed : int >= 0, the construction seed of every probe
    window : widths probed below the bisection's answer (>= 0)
    lo, hi : search range (default ``1`` and ``max(2F, 16)``); restricted to
        the widths the method declares meaningful, if it does
    options : passed to :func:`factmlp.constructions.construct`

    Returns a :class:`MinimizeResult` whose MLP ``verify_storage`` certifies
    to store all F facts.  Raises
    :class:`~factmlp.errors.NoCertifiedWidthError` when no probed width in
    range is certified, :class:`~factmlp.errors.InvalidInputError` for a bad
    spec, seed, window or range.
    """
    from .constructions import method_label, resolve_method
    from .verify import verify_storage

    t0 = time.perf_counter()
    if not isinstance(factset, FactSet):
        raise InvalidInputError(f"factset must be a factmlp.FactSet, got {type(factset).__name__}")
    base, polish_opts = resolve_method(method, polish)
    label = method_label(method, polish)
    seed = _check_int(seed, "seed", 0)
    window = _check_int(window, "window", 0)
    lo = 1 if lo is None else _check_int(lo, "lo", 1)
    hi = _default_hi(factset) if hi is None else _check_int(hi, "hi", 1)
    if hi < lo:
        raise InvalidInputError(f"minimize needs lo <= hi, got lo={lo}, hi={hi}")
    options = dict(options)
    if polish_opts is not None:
        options["polish"] = polish_opts
    cands = valid_widths(factset, base.name, options)
    options.pop("widths", None)
    grid = [h for h in (cands if cands is not None else range(lo, hi + 1)) if lo <= h <= hi]
    if not grid:
        raise InvalidInputError(f"no width of method {label!r} in [{lo}, {hi}]")
    try:
        start = int(base.default_hidden(factset, **{k: v for k, v in options.items() if k != "polish"}))
    except InvalidInputError:
        start = None

    probes: dict[int, Probe] = {}
    order: list[int] = []
    built: dict[int, Any] = {}

    def stores(h: int) -> bool:
        if h not in probes:
            probes[h], c = probe_width(factset, label, h, seed, **options)
            order.append(h)
            if probes[h].stored:
                built[h] = c
        return probes[h].stored

    best, _ = search_min_width(stores, lo=lo, hi=hi, start=start, candidates=grid)
    if best is not None:  # probe window below the current best until `window` in a row fail
        i = grid.index(best)
        j = i - 1
        while j >= 0 and i - j <= window:
            if stores(grid[j]):
                i = j
            j -= 1

    # the smallest storing width whose MLP verifies again; never an uncertified one
    for h in sorted(built):
        mlp = built[h].mlp
        report = verify_storage(mlp, factset)
        if report.certified and int(report.stored) == int(report.total) == factset.n_facts:
            params = int(mlp.n_params)
            F, N = factset.n_facts, factset.n_values
            return MinimizeResult(
                method=label,
                hidden=int(h),
                params=params,
                bits_per_param=F * math.log2(N) / params if N > 1 else 0.0,
                stored=int(report.stored),
                total=int(report.total),
                seconds=time.perf_counter() - t0,
                mlp=mlp,
                seed=seed,
                probes=[probes[w] for w in order],
            )
    most = max((p.n_stored for p in probes.values()), default=0)
    raise NoCertifiedWidthError(
        f"{label}: no width in [{lo}, {hi}] certified all {factset.n_facts} facts "
        f"(seed {seed}; {len(order)} widths probed, at most {most} certified)",
        indices=order,
    )
