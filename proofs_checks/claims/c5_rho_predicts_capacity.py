r"""C5 (decodability predicts capacity): facts per parameter increase with rho.

For small random fact sets of the families spherical, gaussian, spiked and
condition (several seeds each; their rho spreads from about 0.02 to 0.5),
:func:`factmlp.capacity.min_width` finds the smallest hidden width ``h*`` at
which a method stores every fact (certified by the verifier; monotonicity in
h assumed, see :mod:`factmlp.capacity`), giving ``facts/param = F / (3 d h*)``.
Methods: ``ctx.method`` when given, else every torch-free registered method;
gradient descent (``gd``) only in the full profile, only with torch, and only
on the first seed of each family (one GD capacity search at the full sizes
takes about 6 minutes on 2 cores: every probe trains to its step budget).

Statistic: Spearman's rank correlation between rho (of the used values) and
facts per parameter over all (method, family, seed) points, with its
two-sided p-value (scipy.stats.spearmanr); per-method correlations are
reported too.  A point where no width up to the search's limit stores every
fact counts with facts/param = 0 (it is the worst capacity), and is listed.

Decision rule: pass iff the pooled correlation is positive and its two-sided
p-value is below 0.05.  If the data do not support the claim, it fails.
"""

from __future__ import annotations

import numpy as np

from ..framework import Claim, ClaimContext, register
from ._common import have_torch, profile_sizes, subseed

ALPHA = 0.05
FAMILIES = ("spherical", "gaussian", "spiked", "condition")

SIZES = {
    "quick": {"d": 12, "F": 48, "N": 48, "seeds": 5},
    "full": {"d": 24, "F": 144, "N": 144, "seeds": 5, "gd_seeds": 1},
}


def statement() -> str:
    return (r"\operatorname{corr}_{\mathrm{Spearman}}\left(\rho(V),\ \frac{F}{3\,d\,h^*}\right) > 0,\quad "
            r"h^* = \min\{h : g_h \text{ stores all } F \text{ facts}\}")


def _methods(ctx: ClaimContext) -> list[str]:
    from factmlp.constructions import METHODS

    if ctx.method is not None:
        return [ctx.method]
    out = [n for n, m in METHODS.items() if not m.needs_torch]
    if ctx.profile == "full" and have_torch() and "gd" in METHODS:
        out.append("gd")
    return out


def _spearman(x: list, y: list) -> dict:
    from scipy.stats import spearmanr

    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return {"correlation": float("nan"), "p_value": float("nan"), "n": len(x)}
    res = spearmanr(x, y)
    return {"correlation": float(res.statistic), "p_value": float(res.pvalue), "n": len(x)}


def run(ctx: ClaimContext) -> tuple[bool, dict]:
    """Capacity of every (method, family, seed), then the rank correlation with rho."""
    from factmlp.capacity import min_width
    from factmlp.constructions.registry import feasibility
    from factmlp.families import make_factset

    cfg = profile_sizes(ctx, SIZES)
    methods = _methods(ctx)
    points = []
    for fi, fam in enumerate(FAMILIES):
        for k in range(cfg["seeds"]):
            seed = subseed(ctx.seed, "C5", fi, k)
            fs = make_factset(fam, d=cfg["d"], facts=cfg["F"], values=cfg["N"], seed=seed)
            ctx.record_input(fs, seed)
            rho = float(feasibility(fs).rho)
            for name in methods:
                if name == "gd" and k >= cfg.get("gd_seeds", 0):
                    continue
                res = min_width(fs, name, seed=subseed(ctx.seed, "C5-construct", fi, k), rho=rho)
                fpp = float(res.facts_per_param) if res.h_star is not None else 0.0
                points.append({"method": name, "family": fam, "seed": seed, "rho": rho, "h_star": res.h_star,
                               "params": res.params, "facts_per_param": fpp, "status": res.status,
                               "probes": len(res.probes), "seconds": res.seconds})
    pooled = _spearman([p["rho"] for p in points], [p["facts_per_param"] for p in points])
    per_method = {}
    for name in methods:
        ps = [p for p in points if p["method"] == name]
        per_method[name] = _spearman([p["rho"] for p in ps], [p["facts_per_param"] for p in ps])
    passed = bool(np.isfinite(pooled["correlation"]) and pooled["correlation"] > 0 and pooled["p_value"] < ALPHA)
    numbers = {
        "headline": ["spearman", "p_value", "points", "not_found"],
        "spearman": pooled["correlation"], "p_value": pooled["p_value"], "alpha": ALPHA,
        "points": len(points), "not_found": sum(p["h_star"] is None for p in points),
        "methods": methods, "per_method": per_method,
        "sizes": {k: cfg[k] for k in ("d", "F", "N")},
        "data": points,
    }
    return passed, numbers


CLAIM = register(Claim(
    id="C5",
    title="Decodability rho predicts facts per parameter",
    statement=statement,
    run=run,
    symbolic=None,
    doc=__doc__ or "",
))
