r"""C6 (Johnson-Lindenstrauss): the dimensions ``m`` of :mod:`theory.jl` hold at the stated probability in
the regime the lemma is about, ``d >> m``, and the check states the smallest error in ``m`` it would detect.

Two events, each checked by Monte Carlo over independent projections
``P = G / sqrt(m)`` (``G`` an ``m x d`` matrix of i.i.d. standard normals, the
law of encdec's ``projection="random"``), with ``d`` several times ``m``:

* decoder margins (``m = M_DECODER(rho, N, delta)``, eps = rho/2): for every
  ordered pair ``j != l`` of values,
  ``<P u*_j, P (v_j - v_l)> >= (rho/2) ||v_j - v_l||``, with ``u*_j`` the
  certified readout directions of :func:`factmlp.decodability.decodability`
  and ``rho`` their minimum;
* pairwise distances (``m = M_JL(eps, N, delta)``): every
  ``||P (v_j - v_l)||^2`` within ``(1 +- eps) ||v_j - v_l||^2``.

Each trial is a success when its event holds for all pairs; with ``s``
successes in ``T`` trials the two-sided 95% Clopper-Pearson interval is
reported.  In every trial the same events are also evaluated at the
dimensions ``ceil(c m)`` for each fraction ``c`` in ``fractions`` (prefix rows
of the same G, rescaled: each fraction's law is exact).

Power statement (computed, in the certificate).  The rule passes with ``s``
successes iff ``CP_low(s, T) >= 1 - delta``, i.e. iff ``s >= s_min(T, delta)``.
Had the dimension been ``ceil(c m)`` (a constant too small by ``1/c``), with
true success probability ``p_c``, the rule would fail with probability
``binom.cdf(s_min - 1, T, p_c)``.  With ``p_c`` replaced by its 95% upper
Clopper-Pearson bound (conservative) this is ``power(c)``;
``detectable_fraction`` is the largest grid fraction with ``power(c) >=
POWER``: the smallest error in m the check would detect.

Product check: the construction itself (``ctx.method`` or encdec) at the
explicit width ``M_DECODER ceil(F/d)`` on a fact set with these values
(d >> m) must be certified to store all F facts and, where it reports its
layout (encdec), use an ``m x d`` random projection with ``m = M_DECODER``.

Decision rule, fixed before running: pass iff, for both events, the
interval's lower end is ``>= 1 - delta`` at the theory's m (with all T
trials successful this needs ``T >= ln(0.025)/ln(1 - delta)``); for both
events ``detectable_fraction`` exists in the grid (the Monte Carlo can see a
failure; an identity "projection" never fails at any m); and the encdec
product check holds.

Evidence kind: the bounds are proved symbolically (every derivation of
:mod:`theory.jl`); the probabilities are measured (T trials, seeds below).

Symbolic side: Dasgupta-Gupta tails and union bound, pairwise points,
polarization, the decoder corollary.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ..framework import Claim, ClaimContext, register
from ._common import DEFAULT_METHOD, profile_sizes, subseed, symbolic_summary

SIZES = {
    "quick": {"d": 2048, "N": 48, "delta": 0.05, "eps": 0.5, "trials": 100, "fractions": (0.5, 0.25, 0.125)},
    "full": {"d": 4096, "N": 64, "delta": 0.01, "eps": 0.5, "trials": 400, "fractions": (0.5, 0.25, 0.125)},
}
CONFIDENCE = 0.95
POWER = 0.9


def statement() -> str:
    from theory.jl import M_DECODER

    return (
        r"m \ge " + sp.latex(M_DECODER) + r" \implies \Pr_P\left[\forall j \ne l:\ "
        r"\langle P u^*_j, P(v_j - v_l)\rangle \ge \tfrac{\rho}{2}\|v_j - v_l\|\right] \ge 1 - \delta,"
        r"\quad d \gg m"
    )


def symbolic() -> dict:
    from theory import jl

    return symbolic_summary(
        [
            jl.jl_vectors_derivation(),
            jl.jl_points_derivation(),
            jl.inner_product_derivation(),
            jl.decoder_margin_derivation(),
        ]
    )


def clopper_pearson(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Two-sided exact (Clopper-Pearson) interval for a binomial proportion (scipy.stats.binomtest)."""
    from scipy.stats import binomtest

    ci = binomtest(int(successes), int(trials)).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


def min_successes(trials: int, target: float, confidence: float = CONFIDENCE) -> int | None:
    """``s_min``: the fewest successes of ``trials`` whose CP lower bound is ``>= target`` (None if none)."""
    s = None
    for k in range(int(trials), -1, -1):
        if clopper_pearson(k, trials, confidence)[0] >= target:
            s = k
        else:
            break
    return s


def rejection_power(p: float, trials: int, s_min: int | None) -> float:
    """``Pr[Binom(trials, p) < s_min]``: the probability that the rule fails when the success rate is p."""
    from scipy.stats import binom

    if s_min is None:
        return 1.0
    return float(binom.cdf(s_min - 1, int(trials), float(p)))


def _events(
    v: np.ndarray,
    u: np.ndarray,
    g: np.ndarray,
    m_dec: int,
    m_jl: int,
    rho: float,
    eps: float,
    diff_norm: np.ndarray,
    off: np.ndarray,
) -> tuple[float, bool]:
    """``(min margin / distance at m_dec, all squared distances within eps at m_jl)`` from prefix rows of g."""
    p = g[:m_dec] / math.sqrt(m_dec)
    pu, pv = u @ p.T, v @ p.T
    a = pu @ pv.T  # a[j, l] = <P u_j, P v_l>
    ratio = float(np.min((np.diag(a)[:, None] - a)[off] / diff_norm[off]))
    q = g[:m_jl] / math.sqrt(m_jl)
    z = v @ q.T
    gram = z @ z.T
    sq = np.diag(gram)[:, None] + np.diag(gram)[None, :] - 2 * gram
    rel = float(np.max(np.abs(sq[off] / diff_norm[off] ** 2 - 1.0)))
    return ratio, rel <= eps


def _encdec_check(fs, method: str, m: int, seed: int) -> dict:
    """The method at the explicit width ``m ceil(F/d)`` (encdec: m code coordinates, d >> m).

    ``ok`` iff all F facts are certified stored and, where the construction
    reports its layout (encdec), it used ``m`` code coordinates through an
    ``m x d`` random projection.
    """
    from factmlp.constructions import construct
    from factmlp.errors import FactMLPError
    from factmlp.verify import verify_storage

    hidden = m * math.ceil(fs.n_facts / fs.dim)
    try:
        c = construct(fs, method, hidden=hidden, seed=seed)
    except FactMLPError as exc:
        return {"ok": False, "m_requested": m, "hidden": hidden, "error": f"{type(exc).__name__}: {exc}"[:300]}
    rep = verify_storage(c.mlp, fs)
    proj = (c.factored or {}).get("projection")
    shape = None if proj is None else [int(x) for x in np.shape(proj)]
    layout_ok = "m" not in c.info or (
        c.info.get("m") == m and shape == [m, fs.dim] and c.info.get("projection") == "random"
    )
    ok = bool(rep.certified) and int(rep.stored) == int(rep.total) and layout_ok
    return {
        "ok": ok,
        "m_requested": m,
        "m_used": c.info.get("m"),
        "projection": c.info.get("projection"),
        "projection_shape": shape,
        "stored": int(rep.stored),
        "total": int(rep.total),
        "rho_projected": c.info.get("rho_projected"),
        "hidden": c.hidden,
    }


def run(ctx: ClaimContext) -> tuple[bool, dict]:
    """Monte Carlo over projections for both events at m and at fractions of m; power; encdec check."""
    from factmlp.constructions.registry import feasibility
    from factmlp.families import make_factset
    from theory.jl import m_decoder, m_jl

    cfg = profile_sizes(ctx, SIZES)
    d, n, delta, eps, trials, fr = (cfg[k] for k in ("d", "N", "delta", "eps", "trials", "fractions"))
    fs_seed = subseed(ctx.seed, "C6-factset")
    fs = make_factset("spherical", d=d, facts=n, values=n, seed=fs_seed)
    ctx.record_input(fs, fs_seed)
    v = np.asarray(fs.values, dtype=np.float64)
    res = feasibility(fs)  # certified rho and readout directions of the (all used) values
    rho = float(res.rho)
    u = np.asarray(res.directions, dtype=np.float64)
    diff_norm = np.linalg.norm(v[:, None, :] - v[None, :, :], axis=2)
    off = ~np.eye(n, dtype=bool)
    m_dec, m_pts = m_decoder(rho, n, delta), m_jl(eps, n, delta)
    grid = (1.0,) + tuple(fr)
    dims_dec = [max(1, math.ceil(c * m_dec)) for c in grid]
    dims_jl = [max(1, math.ceil(c * m_pts)) for c in grid]
    top = max(dims_dec + dims_jl)
    rng = np.random.default_rng(subseed(ctx.seed, "C6-projections"))
    ok_dec = np.zeros(len(grid), dtype=int)
    ok_pos = np.zeros(len(grid), dtype=int)
    ok_jl = np.zeros(len(grid), dtype=int)
    worst_ratio = math.inf
    for _ in range(trials):
        g = rng.standard_normal((top, d))
        for k in range(len(grid)):
            ratio, jl_ok = _events(v, u, g, dims_dec[k], dims_jl[k], rho, eps, diff_norm, off)
            ok_dec[k] += ratio >= rho / 2
            ok_pos[k] += ratio > 0
            ok_jl[k] += jl_ok
            if k == 0:
                worst_ratio = min(worst_ratio, ratio)
    target = 1 - delta
    s_min = min_successes(trials, target)

    def summary(ok: np.ndarray, dims: list) -> dict:
        rows = []
        for c, mk, s in zip(grid, dims, ok, strict=True):
            lo, hi = clopper_pearson(int(s), trials)
            rows.append(
                {
                    "fraction": c,
                    "m": mk,
                    "successes": int(s),
                    "ci_low": lo,
                    "ci_high": hi,
                    "power": rejection_power(hi, trials, s_min),
                }
            )
        detect = [r["fraction"] for r in rows[1:] if r["power"] >= POWER]
        return {"rows": rows, "detectable_fraction": max(detect) if detect else None}

    dec, jl = summary(ok_dec, dims_dec), summary(ok_jl, dims_jl)
    method = ctx.method or DEFAULT_METHOD
    prod = (
        _encdec_check(fs, method, m_dec, subseed(ctx.seed, "C6-encdec"))
        if m_dec < d
        else {"ok": False, "reason": f"M_DECODER = {m_dec} >= d = {d}: not the regime d >> m"}
    )
    passed = (
        dec["rows"][0]["ci_low"] >= target
        and jl["rows"][0]["ci_low"] >= target
        and dec["detectable_fraction"] is not None
        and jl["detectable_fraction"] is not None
        and bool(prod["ok"])
    )
    numbers = {
        "headline": ["m_decoder", "decoder_ci_low", "decoder_detectable_fraction", "jl_detectable_fraction"],
        "d": d,
        "N": n,
        "delta": delta,
        "eps_jl": eps,
        "rho": rho,
        "trials": trials,
        "method": method,
        "m_decoder": m_dec,
        "d_over_m_decoder": d / m_dec,
        "decoder_successes": int(ok_dec[0]),
        "decoder_ci_low": dec["rows"][0]["ci_low"],
        "decoder_ci_high": dec["rows"][0]["ci_high"],
        "positive_margin_successes": int(ok_pos[0]),
        "worst_margin_over_distance": worst_ratio,
        "required_margin_over_distance": rho / 2,
        "m_jl": m_pts,
        "d_over_m_jl": d / m_pts,
        "jl_successes": int(ok_jl[0]),
        "jl_ci_low": jl["rows"][0]["ci_low"],
        "jl_ci_high": jl["rows"][0]["ci_high"],
        "confidence": CONFIDENCE,
        "target": target,
        "power_level": POWER,
        "min_successes_to_pass": s_min,
        "decoder_detectable_fraction": dec["detectable_fraction"],
        "jl_detectable_fraction": jl["detectable_fraction"],
        "power_statement": (
            f"with T = {trials} trials the rule would fail with probability >= {POWER} had M_DECODER been "
            f"too small by a factor {None if dec['detectable_fraction'] is None else 1 / dec['detectable_fraction']:g}"
            f" or M_JL by a factor {None if jl['detectable_fraction'] is None else 1 / jl['detectable_fraction']:g}"
            if dec["detectable_fraction"] and jl["detectable_fraction"]
            else "the Monte Carlo saw no detectable failure at any fraction of m: it cannot detect an error in m"
        ),
        "decoder_by_fraction": dec["rows"],
        "jl_by_fraction": jl["rows"],
        "positive_rate_at_fraction": {f"{c:g}": int(k) / trials for c, k in zip(grid, ok_pos, strict=True)},
        "encdec": prod,
        "evidence": "bounds proved symbolically (theory.jl); probabilities measured by Monte Carlo",
    }
    return passed, numbers


CLAIM = register(
    Claim(
        id="C6",
        title="Johnson-Lindenstrauss dimension keeps decoder margins (d >> m), with a computed power statement",
        statement=statement,
        run=run,
        symbolic=symbolic,
        doc=__doc__ or "",
    )
)
