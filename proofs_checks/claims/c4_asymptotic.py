r"""C4 (asymptotic optimality): encoder-decoder params / counting bound stays bounded as F grows.

Theory (:func:`theory.param_counts.ratio_limit_derivation`): for permutation
facts (N = F) and ``m = M_DECODER(rho, F, delta)``, the folded count over the
counting bound ``log2 F! / b`` tends to ``288 b ln 2 / (rho^2 (3 - rho))``, a
constant when ``rho = Theta(1)``.

Numeric side: spherical fact sets with N = F over a sweep of F at fixed d;
each construction (``ctx.method`` or ``encdec``, default width) must be
certified to store all facts (a count for an MLP that does not store is not
evidence).  Fit ``log(params / bound) = a + s log F`` by least squares and
report the slope ``s`` with its two-sided 95% confidence interval
``s +- t_{0.975, n-2} * se(s)`` (scipy.stats).

Decision rule, fixed before running: pass iff every construction is certified
stored and the interval's upper end is below ``SLOPE_GROWTH = 0.1`` (a ratio
growing at least like F^0.1, about 7% per doubling of F, counts as growth).

Caveats, reported rather than hidden: at these sizes ``M_DECODER`` exceeds d,
so the code dimension is capped, ``m = d`` (``m_capped`` per point); the
sweep then measures the capped regime, where params = 3 d m ceil(F/d) and the
ratio decreases like ``1/log F``.  rho of spherical values at fixed d also
shrinks slowly as N = F grows (reported per point), so rho = Theta(1) holds
only approximately over the sweep.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ..framework import Claim, ClaimContext, register
from ._common import DEFAULT_METHOD, profile_sizes, storage_outcome, subseed, symbolic_summary

BITS = 32.0
SLOPE_GROWTH = 0.1
CONFIDENCE = 0.95
JL_DELTA = 0.01  # failure probability of the default code dimension (encdec's default)

SIZES = {
    "quick": {"d": 16, "F": (64, 128, 256, 512, 1024, 2048)},
    "full": {"d": 32, "F": (128, 256, 512, 1024, 2048, 4096)},
}


def statement() -> str:
    from theory.param_counts import ratio_limit_derivation

    return sp.latex(ratio_limit_derivation().statement)


def symbolic() -> dict:
    from theory import counting, param_counts

    return symbolic_summary([param_counts.ratio_limit_derivation(), param_counts.encdec_bound_derivation(),
                             counting.permutation_bits_derivation()])


def slope_interval(x: np.ndarray, y: np.ndarray, confidence: float = CONFIDENCE) -> dict:
    """Least-squares slope of ``y`` on ``x`` with its two-sided t confidence interval (needs n >= 3)."""
    from scipy import stats

    fit = stats.linregress(x, y)
    tq = float(stats.t.ppf(0.5 + confidence / 2, len(x) - 2))
    return {"slope": float(fit.slope), "intercept": float(fit.intercept), "stderr": float(fit.stderr),
            "ci_low": float(fit.slope - tq * fit.stderr), "ci_high": float(fit.slope + tq * fit.stderr),
            "t_quantile": tq, "n": int(len(x))}


def run(ctx: ClaimContext) -> tuple[bool, dict]:
    """Sweep F, construct and verify, fit the log-log slope of the ratio."""
    from factmlp.constructions.registry import feasibility
    from factmlp.families import make_factset
    from theory.counting import param_lower_bound
    from theory.jl import m_decoder

    cfg = profile_sizes(ctx, SIZES)
    method = ctx.method or DEFAULT_METHOD
    d = cfg["d"]
    points = []
    for k, nf in enumerate(cfg["F"]):
        seed = subseed(ctx.seed, "C4", k)
        fs = make_factset("spherical", d=d, facts=nf, values=nf, seed=seed)
        ctx.record_input(fs, seed)
        rho = float(feasibility(fs).rho)
        out = storage_outcome(fs, method, seed=subseed(ctx.seed, "C4-construct", k))
        bound = param_lower_bound(nf, nf, BITS, permutation=True)
        m_theory = m_decoder(min(rho, 1.0), nf, JL_DELTA)
        m_used = out.get("info", {}).get("m")
        points.append({"F": nf, "seed": seed, "rho": rho, "m_decoder": m_theory, "m_used": m_used,
                       "m_capped": bool(m_theory > d and m_used == d),
                       "counting_bound": bound, **out,
                       "ratio": out["params"] / bound if "params" in out else float("nan")})
    stored = [p for p in points if p["outcome"] == "stored"]
    fit = None
    if len(points) >= 3 and all("params" in p for p in points):
        x = np.log([p["F"] for p in points])
        y = np.log([p["ratio"] for p in points])
        fit = slope_interval(x, y)
    passed = len(stored) == len(points) and fit is not None and math.isfinite(fit["ci_high"]) \
        and fit["ci_high"] < SLOPE_GROWTH
    numbers = {
        "headline": ["slope", "slope_ci_high", "slope_growth", "stored_points"],
        "method": method, "d": d, "bits_per_param": BITS,
        "slope": None if fit is None else fit["slope"],
        "slope_ci_low": None if fit is None else fit["ci_low"],
        "slope_ci_high": None if fit is None else fit["ci_high"],
        "slope_growth": SLOPE_GROWTH, "confidence": CONFIDENCE,
        "fit": fit, "stored_points": len(stored), "points_total": len(points),
        "all_m_capped": all(p["m_capped"] for p in points),
        "ratios": [p["ratio"] for p in points],
        "points": points,
    }
    return passed, numbers


CLAIM = register(Claim(
    id="C4",
    title="Asymptotic optimality: params / counting bound bounded in F",
    statement=statement,
    run=run,
    symbolic=symbolic,
    doc=__doc__ or "",
))
