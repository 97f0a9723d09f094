r"""C9 (encdec matches GD's facts-per-parameter asymptotics): the ratio of their parameter counts does not grow with F.

The paper's finding "the encoder-decoder empirically matches gradient
descent's facts-per-parameter asymptotics" as a test.  At fixed ``d``
(:data:`D`), for each F of :data:`F_GRID` (N = F, spherical values; the
shared capacity grid, so GD's searches are shared with C3 within one run)
and each grid index k of :data:`GRID_SEEDS`, :func:`factmlp.capacity.min_width`
finds both certified minimal widths ``h*_encdec`` and ``h*_GD`` (the verifier
certifies all F facts at ``h*``), and

    y = log( params_encdec(h*) / params_GD(h*) ) = log( h*_encdec / h*_GD ).

If both store facts at the same asymptotic rate (params ~ c F^a with one
exponent a), ``y`` does not trend in ``log F``.  Statistic: the OLS slope of
``y`` on ``log F`` over all (F, k) points with its 95% t-interval
(:func:`._common.slope_interval`, n - 2 degrees of freedom).  The per-method
slopes of ``log params`` on ``log F`` are reported too.

``ctx.method`` replaces the encoder-decoder (the comparison is then that
method against GD).  GD needs torch: without it the claim is ``not_run``.

Decision rule (fixed in advance): pass iff every capacity search succeeded,
the verifier controls pass on every set, and the whole 95% interval lies in
``[-TOLERANCE, TOLERANCE]`` (:data:`TOLERANCE` = 0.2: the ratio changes by at
most 2^0.2 = 1.15x per doubling of F).  An interval reaching above the band
means the ratio grows with F and the claim fails; that is a finding, reported
with the numbers.
"""

from __future__ import annotations

import math

import numpy as np

from ..framework import Claim, ClaimContext, register
from ._common import (
    DEFAULT_METHOD,
    capacity_cached,
    grid_construct_seed,
    grid_factset,
    profile_sizes,
    slope_interval,
    verifier_controls,
)

#: fixed key/value dimension (the statement is about F at fixed d)
D = 32
FAMILY = "spherical"
#: sizes and grid indices per profile (>= 4 sizes)
SIZES = {
    "quick": {"F_GRID": [32, 48, 64, 96, 128], "GRID_SEEDS": [0]},
    "full": {"F_GRID": [32, 64, 128, 256, 512], "GRID_SEEDS": [0, 1, 2]},
}
#: half-width of the band around slope 0 the 95% interval must lie in
TOLERANCE = 0.2
LEVEL = 0.95
REFERENCE = "gd"

EVIDENCE = {
    "exact": "h* of both methods certified by the sound verifier at the listed sizes",
    "measured": {
        "what": "OLS slope of log(params_encdec(h*) / params_GD(h*)) on log F at d = 32",
        "statistic": "95% t-interval of the slope",
        "threshold": f"interval within [-{TOLERANCE}, {TOLERANCE}]",
    },
    "caveats": [
        "a finite range of F at one d; an asymptotic statement can only be tested over the measured range",
        "GD's h* depends on its optimiser and step budget (factmlp.train defaults) and on monotonicity of "
        "storage in h, which the search assumes",
    ],
}


def statement() -> str:
    return (
        r"\frac{d\,\log\left(\mathrm{params}_{\mathrm{encdec}}(h^*)/\mathrm{params}_{\mathrm{GD}}(h^*)\right)}"
        r"{d\,\log F}\Big|_{d\ \mathrm{fixed}} \in [-" + f"{TOLERANCE}" + ", " + f"{TOLERANCE}" + "]"
    )


def run(ctx: ClaimContext) -> tuple[bool, dict]:
    """Both capacity searches at every grid point, then the slope interval of the log ratio."""
    from factmlp.constructions.registry import feasibility

    cfg = profile_sizes(ctx, SIZES)
    method = ctx.method or DEFAULT_METHOD
    points, controls = [], []
    for nf in cfg["F_GRID"]:
        for k in cfg["GRID_SEEDS"]:
            fs, seed = grid_factset(ctx, FAMILY, D, nf, k)
            ctx.record_input(fs, seed)
            ctrl = verifier_controls(fs, seed=seed)
            controls.append({"F": nf, "k": k, **ctrl})
            rho = float(feasibility(fs).rho)
            cseed = grid_construct_seed(ctx, FAMILY, D, nf, k)
            res = {m: capacity_cached(ctx, fs, m, seed=cseed, rho=rho) for m in (method, REFERENCE)}
            row = {"F": nf, "k": k, "seed": seed, "rho": rho}
            for m, r in res.items():
                row[m] = {
                    "h_star": r.h_star,
                    "params": r.params,
                    "status": r.status,
                    "probes": len(r.probes),
                    "seconds": r.seconds,
                }
            ok = all(r.h_star is not None for r in res.values())
            row["ratio"] = res[method].params / res[REFERENCE].params if ok else None
            points.append(row)
    searches_ok = all(p["ratio"] is not None for p in points)
    controls_ok = all(c["ok"] for c in controls)
    numbers: dict = {
        "headline": ["slope", "ci_low", "ci_high", "tolerance"],
        "method": method,
        "reference": REFERENCE,
        "d": D,
        "family": FAMILY,
        "tolerance": TOLERANCE,
        "level": LEVEL,
        "searches_succeeded": searches_ok,
        "verifier_controls_ok": controls_ok,
        "verifier_controls": controls,
        "points": points,
    }
    if not searches_ok:
        numbers.update(
            slope=float("nan"),
            ci_low=float("nan"),
            ci_high=float("nan"),
            finding="a capacity search found no storing width; no slope",
        )
        return False, numbers
    logF = np.log([p["F"] for p in points])
    fit = slope_interval(logF, np.log([p["ratio"] for p in points]), LEVEL)
    per_method = {m: slope_interval(logF, np.log([p[m]["params"] for p in points]), LEVEL) for m in (method, REFERENCE)}
    inside = -TOLERANCE <= fit["ci_low"] and fit["ci_high"] <= TOLERANCE
    ratios = [p["ratio"] for p in points]
    summary = (
        f"slope {fit['slope']:.3f} (95% [{fit['ci_low']:.3f}, {fit['ci_high']:.3f}], band +-{TOLERANCE}); "
        f"params {method}/GD from {min(ratios):.2f}x to {max(ratios):.2f}x over "
        f"F = {min(cfg['F_GRID'])}..{max(cfg['F_GRID'])} at d = {D}"
    )
    if inside:
        finding = f"the ratio does not trend with F: {summary}"
    elif fit["ci_low"] > TOLERANCE:
        finding = f"the ratio grows with F ({method} does not match GD's asymptotics here): {summary}"
    elif fit["ci_high"] < -TOLERANCE:
        finding = f"the ratio falls with F: {summary}"
    else:
        finding = (
            f"not shown: the interval leaves the band (point estimate "
            f"{'above' if fit['slope'] > TOLERANCE else 'inside' if abs(fit['slope']) <= TOLERANCE else 'below'}"
            f" it): {summary}"
        )
    numbers.update(
        slope=fit["slope"],
        ci_low=fit["ci_low"],
        ci_high=fit["ci_high"],
        se=fit["se"],
        n=fit["n"],
        ratio_min=min(ratios),
        ratio_max=max(ratios),
        per_method_params_slope={
            m: {"slope": v["slope"], "ci_low": v["ci_low"], "ci_high": v["ci_high"]} for m, v in per_method.items()
        },
        finding=finding,
        evidence={"measured": {"n": fit["n"]}},
    )
    passed = bool(searches_ok and controls_ok and inside and math.isfinite(fit["slope"]))
    return passed, numbers


CLAIM = register(
    Claim(
        id="C9",
        title="Encoder-decoder matches GD's facts-per-parameter asymptotics",
        statement=statement,
        run=run,
        symbolic=None,
        doc=__doc__ or "",
        requires=("torch",),
    )
)
