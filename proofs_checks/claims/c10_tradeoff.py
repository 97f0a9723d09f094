r"""C10 (capacity-usability tradeoff): as the whitening strength s goes 0 -> 1, the encoder-decoder's capacity
does not fall while the Lipschitz bound of its MLP rises.

encdec's decoder may compose its projection with ``Sigma^{-s/2}`` of the values'
covariance (``whiten=s``, :mod:`factmlp.constructions.encdec`): for
anisotropic values this raises rho of the (whitened) values, hence capacity,
and stretches the MLP's output map, hence its Lipschitz constant: the
capacity-vs-usability tradeoff of the paper.

Design, fixed before running.  Fact sets ``FAMILIES`` (anisotropic: spiked,
beta = 1.5; condition number 30), d = 32, F = N = 64 (quick), one seed each; the
grid ``STRENGTHS = (0, 1/4, 1/2, 3/4, 1)``.  For each family and s:

* capacity: the capacity search :func:`factmlp.capacity.min_width` (method
  ``ctx.method`` or ``encdec``, option ``whiten=s``, construction seed fixed)
  finds the smallest width ``h*`` certified by
  :func:`factmlp.verify.verify_storage`; capacity = facts per parameter
  ``F / (3 d h*)``;
* usability: the MLP at the fixed width ``h = d ceil(F/d)`` (code dimension
  m = d for encdec, so only s changes), its Lipschitz upper bound
  :func:`factmlp.transformer.lipschitz_upper_bound` on the ball of radius
  ``max_i ||k_i||`` (proved there); the exact Jacobian lower bound
  (:func:`factmlp.transformer.lipschitz_bounds`) is reported.

Decision rule (a monotone-trend test over the fixed grid, thresholds fixed in
advance): pass iff for every family (1) capacity does not fall: Kendall's tau-b
of capacity against s is ``>= 0`` and capacity at s = 1 is ``>=`` capacity at
s = 0; and (2) the Lipschitz bound rises: tau-b of the upper bound against s is
``>= TAU_MIN = 0.8`` (with 5 points at most one discordant pair of 10) and
the bound at s = 1 exceeds the one at s = 0.  Capacities all tied (tau
undefined) do not fall; Lipschitz bounds all tied (tau undefined, e.g.
whitening disabled) do not rise, and fail.  A capacity search that finds no
storing width counts as capacity 0.

Evidence kind: measured (exact certified widths and proved Lipschitz bounds
at the listed sizes, one seed per family).  Needs torch (the Lipschitz
functions live in :mod:`factmlp.transformer`); torch runs single-threaded.
"""

from __future__ import annotations

import math

from ..framework import Claim, ClaimContext, register
from ._common import DEFAULT_METHOD, profile_sizes, subseed
from .c7_recall import _needs_torch, torch_threads

FAMILIES = (("spiked", {"beta": 1.5}), ("condition", {"condition": 30.0}))
STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
TAU_MIN = 0.8

SIZES = {
    "quick": {"d": 32, "F": 64},
    "full": {"d": 64, "F": 512},
}


def statement() -> str:
    return (
        r"0 \le s < s' \le 1:\quad \mathrm{cap}(s') \not< \mathrm{cap}(s)\ \wedge\ "
        r"L\left(g_{\mathrm{encdec}}^{\Sigma^{-s'/2}}\right) > L\left(g_{\mathrm{encdec}}^{\Sigma^{-s/2}}\right)"
        r"\quad (\text{Kendall } \tau_{\mathrm{cap}} \ge 0,\ \tau_L \ge 0.8 \text{ over } s \in \{0, \tfrac14, "
        r"\tfrac12, \tfrac34, 1\})"
    )


def kendall(x, y) -> float | None:
    """Kendall's tau-b of y against x (scipy.stats.kendalltau); ``None`` when undefined (all y tied)."""
    from scipy.stats import kendalltau

    tau = kendalltau(x, y).statistic
    return None if tau is None or not math.isfinite(float(tau)) else float(tau)


def run(ctx: ClaimContext) -> tuple[bool, dict]:
    """For each family and whitening strength: capacity search and Lipschitz bounds; trend tests."""
    _needs_torch("C10")
    from factmlp.capacity import min_width
    from factmlp.constructions import construct
    from factmlp.constructions.registry import feasibility
    from factmlp.families import make_factset
    from factmlp.transformer import lipschitz_bounds

    cfg = profile_sizes(ctx, SIZES)
    method = ctx.method or DEFAULT_METHOD
    d, nf = cfg["d"], cfg["F"]
    r0 = math.ceil(nf / d)
    fams = []
    with torch_threads():
        for fi, (fam, kw) in enumerate(FAMILIES):
            seed = subseed(ctx.seed, "C10", fi)
            fs = make_factset(fam, d=d, facts=nf, values=nf, seed=seed, **kw)
            ctx.record_input(fs, seed)
            rho = float(feasibility(fs).rho)
            c_seed = subseed(ctx.seed, "C10-construct", fi)
            rows = []
            for s in STRENGTHS:
                res = min_width(fs, method, c_seed, rho=rho, start=r0 * (d // 2), whiten=s)
                c = construct(fs, method, hidden=d * r0, seed=c_seed, whiten=s)
                lip = lipschitz_bounds(c.mlp, fs.keys)
                rows.append(
                    {
                        "s": s,
                        "h_star": res.h_star,
                        "m_star": res.info.get("m"),
                        "capacity": res.facts_per_param if res.h_star is not None else 0.0,
                        "rho_projected_at_h_star": res.info.get("rho_projected"),
                        "lipschitz_upper": lip["upper"],
                        "lipschitz_lower": lip["lower"],
                        "probes": [(p.hidden, p.stored) for p in res.probes],
                    }
                )
            caps = [r["capacity"] for r in rows]
            ups = [r["lipschitz_upper"] for r in rows]
            tau_cap, tau_up = kendall(STRENGTHS, caps), kendall(STRENGTHS, ups)
            tau_low = kendall(STRENGTHS, [r["lipschitz_lower"] for r in rows])
            # all capacities tied (tau undefined) is "does not fall"; an undefined Lipschitz tau is no rise
            cap_ok = (tau_cap is None or tau_cap >= 0) and caps[-1] >= caps[0] and caps[0] > 0
            lip_ok = tau_up is not None and tau_up >= TAU_MIN and ups[-1] > ups[0]
            fams.append(
                {
                    "family": fam,
                    "options": kw,
                    "seed": seed,
                    "rho": rho,
                    "rows": rows,
                    "tau_capacity": tau_cap,
                    "tau_lipschitz_upper": tau_up,
                    "tau_lipschitz_lower": tau_low,
                    "capacity_does_not_fall": cap_ok,
                    "lipschitz_rises": lip_ok,
                    "capacity_ratio_s1_over_s0": caps[-1] / caps[0] if caps[0] > 0 else None,
                    "lipschitz_ratio_s1_over_s0": ups[-1] / ups[0],
                }
            )
    passed = all(f["capacity_does_not_fall"] and f["lipschitz_rises"] for f in fams)
    numbers = {
        "headline": ["method", "capacity_does_not_fall", "lipschitz_rises", "tau_min"],
        "method": method,
        "d": d,
        "F": nf,
        "strengths": list(STRENGTHS),
        "tau_min": TAU_MIN,
        "capacity_does_not_fall": [f["capacity_does_not_fall"] for f in fams],
        "lipschitz_rises": [f["lipschitz_rises"] for f in fams],
        "torch_threads": 1,
        "evidence": "measured: certified minimal widths and proved Lipschitz upper bounds at the listed sizes",
        "families": fams,
    }
    return passed, numbers


CLAIM = register(
    Claim(
        id="C10",
        title="Capacity-usability tradeoff: whitening keeps capacity and raises the Lipschitz bound",
        statement=statement,
        run=run,
        doc=__doc__ or "",
    )
)
