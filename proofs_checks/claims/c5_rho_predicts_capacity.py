r"""C5 (decodability predicts capacity): facts per parameter increase with rho, for each method.

Unit: the fact set.  For ``sets_per_family`` (:data:`SIZES`) random fact sets of each of
the families spherical, gaussian, spiked and condition (their rho spreads
from about 0.02 to 0.5), each set has one rho (of its used values) and, per
method, one capacity: :func:`factmlp.capacity.min_width` finds the smallest
hidden width ``h*`` at which the method stores every fact (certified by the
verifier; monotonicity in h assumed, see :mod:`factmlp.capacity`), giving
``facts/param = F / (3 d h*)``.  Methods: ``ctx.method`` when given, else
every torch-free registered method; gradient descent (``gd``) only in the
full profile with torch, on the first :data:`SIZES` ``gd_sets`` sets of
each family (one GD search at the full sizes takes minutes).

Statistic, per method: Spearman's rank correlation r_s between rho and
facts/param over the fact sets, with a one-sided permutation p-value (the
facts/param ranks permuted over the sets :data:`PERMUTATIONS` times with a
seeded generator; ``p = (1 + #{r_perm >= r_s}) / (1 + PERMUTATIONS)``).  The
sets are independent draws, so under "no association" their pairing is
exchangeable.  Within-family correlations are reported (not decided on:
within one family the rho range is narrow).

Decision rule (fixed in advance): pass iff every capacity search succeeded
(a method that never stores fails), the verifier controls pass on every
set, and for every method r_s > 0 and p <= ALPHA / (number of methods)
(Bonferroni, ALPHA = 0.05).  If the data do not support the claim, it fails.
"""

from __future__ import annotations

import numpy as np

from ..framework import Claim, ClaimContext, register
from ._common import capacity_cached, have_torch, profile_sizes, subseed, verifier_controls

ALPHA = 0.05
# the methods of the registered design (a method registered later does not enter C5 by itself)
METHODS = ("encdec", "hebbian", "ntk")
PERMUTATIONS = 9999
FAMILIES = ("spherical", "gaussian", "spiked", "condition")

SIZES = {
    "quick": {"d": 12, "F": 48, "N": 48, "sets_per_family": 6, "gd_sets": 0},
    "full": {"d": 24, "F": 144, "N": 144, "sets_per_family": 8, "gd_sets": 2},
}

EVIDENCE = {
    "exact": "h* certified by the sound verifier for each (set, method) at the listed sizes",
    "measured": {
        "what": "Spearman r_s between rho and F / (3 d h*) over fact sets, per method",
        "statistic": "one-sided permutation p-value of r_s",
        "threshold": "r_s > 0 and p <= 0.05 / #methods for every method",
    },
    "caveats": [
        "an association across families (the rho range within one family is narrow; within-family "
        "correlations are reported, not decided on)",
        "capacity minimality assumes storage monotone in h",
    ],
}


def statement() -> str:
    return (
        r"\forall \text{method } M:\ \operatorname{corr}_{\mathrm{Spearman}}\left(\rho(V),\ "
        r"\frac{F}{3\,d\,h^*_M}\right) > 0,\quad h^*_M = \min\{h : g_h \text{ stores all } F \text{ facts}\}"
    )


def _methods(ctx: ClaimContext) -> list[str]:
    from factmlp.constructions import METHODS as REGISTERED

    if ctx.method is not None:
        return [ctx.method]
    out = [n for n in METHODS if n in REGISTERED]
    if ctx.profile == "full" and have_torch() and "gd" in REGISTERED:
        out.append("gd")
    return out


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x)


def permutation_spearman(x: list, y: list, *, permutations: int, seed: int) -> dict:
    """Spearman r_s of ``(x, y)`` and its one-sided permutation p-value (``y``'s ranks permuted).

    ``r_s`` is the Pearson correlation of the mid-ranks; NaN (p = 1) when
    either side is constant or n < 3.
    """
    n = len(x)
    if n < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return {"correlation": float("nan"), "p_value": 1.0, "n": n}
    rx, ry = _ranks(np.asarray(x, float)), _ranks(np.asarray(y, float))
    rx = (rx - rx.mean()) / np.linalg.norm(rx - rx.mean())
    ry = (ry - ry.mean()) / np.linalg.norm(ry - ry.mean())
    r = float(rx @ ry)
    rng = np.random.default_rng(seed)
    perm = np.argsort(rng.random((permutations, n)), axis=1)
    null = ry[perm] @ rx
    p = float((1 + np.sum(null >= r - 1e-12)) / (1 + permutations))
    return {"correlation": r, "p_value": p, "n": n}


def run(ctx: ClaimContext) -> tuple[bool, dict]:
    """One rho and one capacity per (set, method); per-method permutation tests."""
    from factmlp.constructions.registry import feasibility
    from factmlp.families import make_factset

    cfg = profile_sizes(ctx, SIZES)
    methods = _methods(ctx)
    sets, points, controls = [], [], []
    for fi, fam in enumerate(FAMILIES):
        for k in range(cfg["sets_per_family"]):
            seed = subseed(ctx.seed, "C5", fi, k)
            fs = make_factset(fam, d=cfg["d"], facts=cfg["F"], values=cfg["N"], seed=seed)
            ctx.record_input(fs, seed)
            ctrl = verifier_controls(fs, seed=seed)
            controls.append({"family": fam, "k": k, **ctrl})
            rho = float(feasibility(fs).rho)
            sets.append({"family": fam, "k": k, "seed": seed, "rho": rho})
            for name in methods:
                if name == "gd" and k >= cfg.get("gd_sets", 0):
                    continue
                res = capacity_cached(ctx, fs, name, seed=subseed(ctx.seed, "C5-construct", fi, k), rho=rho)
                fpp = float(res.facts_per_param) if res.h_star is not None else None
                points.append(
                    {
                        "method": name,
                        "family": fam,
                        "k": k,
                        "seed": seed,
                        "rho": rho,
                        "h_star": res.h_star,
                        "params": res.params,
                        "facts_per_param": fpp,
                        "status": res.status,
                        "probes": len(res.probes),
                        "seconds": res.seconds,
                    }
                )
    failed_searches = [
        {"method": p["method"], "family": p["family"], "k": p["k"]} for p in points if p["h_star"] is None
    ]
    controls_ok = all(c["ok"] for c in controls)
    threshold = ALPHA / max(len(methods), 1)
    per_method: dict[str, dict] = {}
    within: dict[str, dict[str, float | None]] = {}
    for mi, name in enumerate(methods):
        ps = [p for p in points if p["method"] == name and p["h_star"] is not None]
        test = permutation_spearman(
            [p["rho"] for p in ps],
            [p["facts_per_param"] for p in ps],
            permutations=PERMUTATIONS,
            seed=subseed(ctx.seed, "C5-perm", mi),
        )
        n_all = sum(p["method"] == name for p in points)
        test["searches_succeeded"] = len(ps) == n_all and n_all > 0
        test["passes"] = bool(
            test["searches_succeeded"]
            and np.isfinite(test["correlation"])
            and test["correlation"] > 0
            and test["p_value"] <= threshold
        )
        per_method[name] = test
        within[name] = {}
        for fam in FAMILIES:
            fp = [p for p in ps if p["family"] == fam]
            x, y = [p["rho"] for p in fp], [p["facts_per_param"] for p in fp]
            if len(fp) >= 3 and len(set(x)) > 1 and len(set(y)) > 1:
                from scipy.stats import spearmanr

                within[name][fam] = float(spearmanr(x, y).statistic)
            else:
                within[name][fam] = None
    within_vals = [v for m in within.values() for v in m.values() if v is not None]
    passed = bool(methods) and not failed_searches and controls_ok and all(t["passes"] for t in per_method.values())
    worst = max(per_method.values(), key=lambda t: t["p_value"]) if per_method else {}
    numbers = {
        "headline": ["worst_p_value", "threshold", "min_correlation", "failed_searches"],
        "worst_p_value": worst.get("p_value"),
        "threshold": threshold,
        "alpha": ALPHA,
        "min_correlation": min((t["correlation"] for t in per_method.values()), default=float("nan")),
        "failed_searches": len(failed_searches),
        "failed_search_list": failed_searches,
        "verifier_controls_ok": controls_ok,
        "methods": methods,
        "per_method": per_method,
        "within_family_spearman": within,
        "within_family_mean": float(np.mean(within_vals)) if within_vals else float("nan"),
        "within_family_range": [min(within_vals), max(within_vals)] if within_vals else None,
        "sets": sets,
        "sizes": {k: cfg[k] for k in ("d", "F", "N")},
        "data": points,
        "evidence": {"measured": {"n": len(sets)}},
    }
    return passed, numbers


CLAIM = register(
    Claim(
        id="C5",
        title="Decodability rho predicts facts per parameter (per method, per fact set)",
        statement=statement,
        run=run,
        symbolic=None,
        doc=__doc__ or "",
    )
)
