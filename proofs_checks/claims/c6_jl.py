r"""C6 (Johnson-Lindenstrauss): the dimension ``m`` of :mod:`theory.jl` holds at the stated probability.

Two events, each checked by Monte Carlo over independent projections
``P = G / sqrt(m)`` (``G`` an ``m x d`` matrix of i.i.d. standard normals):

* decoder margins (``m = M_DECODER(rho, N, delta)``, eps = rho/2): for every
  ordered pair ``j != l`` of values,
  ``<P u*_j, P (v_j - v_l)> >= (rho/2) ||v_j - v_l||`` (which implies every
  margin is positive), with ``u*_j`` the certified readout directions of
  :func:`factmlp.decodability.decodability` and ``rho`` their minimum;
* pairwise distances (``m = M_JL(eps, N, delta)``): every
  ``||P (v_j - v_l)||^2`` within ``(1 +- eps) ||v_j - v_l||^2``.

Each trial is a success when its event holds for all pairs.  With ``s``
successes in ``T`` trials the two-sided 95% Clopper-Pearson interval for the
success probability is reported.  The empirical success rate at fractions of
``m`` (positivity of every margin only) is reported as well, to show how
conservative the bound is; it does not enter the decision.

Decision rule: pass iff, for both events, the interval's lower end is
>= 1 - delta (with all T trials successful this needs T >= ln(0.025)/ln(1 - delta)).

Symbolic side: every derivation of :mod:`theory.jl` (Dasgupta-Gupta tails
and union bound, pairwise points, polarization, the decoder corollary).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..framework import Claim, ClaimContext, register
from ._common import profile_sizes, subseed, symbolic_summary

SIZES = {
    "quick": {"d": 16, "N": 48, "delta": 0.05, "eps": 0.25, "trials": 300, "fractions": (0.5, 0.125, 0.03125, 0.0078125)},
    "full": {"d": 32, "N": 128, "delta": 0.01, "eps": 0.2, "trials": 800, "fractions": (0.5, 0.125, 0.03125, 0.0078125)},
}
CONFIDENCE = 0.95


def statement() -> str:
    from theory.jl import M_DECODER

    return (r"m \ge " + sp.latex(M_DECODER) + r" \implies \Pr_P\left[\forall j \ne l:\ "
            r"\langle P u^*_j, P(v_j - v_l)\rangle \ge \tfrac{\rho}{2}\|v_j - v_l\|\right] \ge 1 - \delta")


def symbolic() -> dict:
    from theory import jl

    return symbolic_summary([jl.jl_vectors_derivation(), jl.jl_points_derivation(),
                             jl.inner_product_derivation(), jl.decoder_margin_derivation()])


def clopper_pearson(successes: int, trials: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Two-sided exact (Clopper-Pearson) interval for a binomial proportion (scipy.stats.binomtest)."""
    from scipy.stats import binomtest

    ci = binomtest(int(successes), int(trials)).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


def _margins(v: np.ndarray, u: np.ndarray, gram: np.ndarray) -> np.ndarray:
    """``M[j, l] = u_j^T (P^T P) (v_j - v_l)`` for the Gram ``P^T P`` (d x d); shape (N, N)."""
    a = u @ gram @ v.T  # a[j, l] = <P u_j, P v_l>
    return np.diag(a)[:, None] - a


def run(ctx: ClaimContext) -> tuple[bool, dict]:
    """Monte Carlo over projections for the decoder and the pairwise-distance events."""
    from factmlp.decodability import decodability
    from factmlp.families import make_factset
    from theory.jl import m_decoder, m_jl

    cfg = profile_sizes(ctx, SIZES)
    d, n, delta, eps, trials = cfg["d"], cfg["N"], cfg["delta"], cfg["eps"], cfg["trials"]
    fs_seed = subseed(ctx.seed, "C6-factset")
    fs = make_factset("spherical", d=d, facts=n, values=n, seed=fs_seed)
    ctx.record_input(fs, fs_seed)
    v = np.asarray(fs.values, dtype=np.float64)
    res = decodability(v, fs.used_values)
    rho = float(res.rho)
    u = res.directions
    diff_norm = np.linalg.norm(v[:, None, :] - v[None, :, :], axis=2)
    off = ~np.eye(n, dtype=bool)
    m_dec = m_decoder(rho, n, delta)
    m_pts = m_jl(eps, n, delta)
    fr = cfg["fractions"]
    rng = np.random.default_rng(subseed(ctx.seed, "C6-projections"))
    ok_dec = ok_pos = ok_jl = 0
    ok_frac = np.zeros(len(fr), dtype=int)
    worst_ratio = np.inf
    sq = diff_norm**2
    for _ in range(trials):
        p = rng.standard_normal((m_dec, d)) / np.sqrt(m_dec)
        mg = _margins(v, u, p.T @ p)
        ratio = np.min(mg[off] / diff_norm[off])  # margin / ||v_j - v_l||, to compare with rho/2
        worst_ratio = min(worst_ratio, float(ratio))
        ok_dec += bool(ratio >= rho / 2)
        ok_pos += bool(ratio > 0)
        for k, f in enumerate(fr):
            mk = max(1, int(np.ceil(f * m_dec)))
            pk = rng.standard_normal((mk, d)) / np.sqrt(mk)
            ok_frac[k] += bool(np.min(_margins(v, u, pk.T @ pk)[off]) > 0)
        q = rng.standard_normal((m_pts, d)) / np.sqrt(m_pts)
        gq = q.T @ q
        proj_sq = np.einsum("ijk,kl,ijl->ij", v[:, None, :] - v[None, :, :], gq, v[:, None, :] - v[None, :, :])
        rel = np.abs(proj_sq[off] / sq[off] - 1.0)
        ok_jl += bool(np.max(rel) <= eps)
    ci_dec = clopper_pearson(ok_dec, trials)
    ci_jl = clopper_pearson(ok_jl, trials)
    passed = ci_dec[0] >= 1 - delta and ci_jl[0] >= 1 - delta
    numbers = {
        "headline": ["m_decoder", "decoder_successes", "trials", "decoder_ci_low"],
        "d": d, "N": n, "delta": delta, "eps_jl": eps, "rho": rho, "trials": trials,
        "m_decoder": m_dec, "decoder_successes": ok_dec, "decoder_ci_low": ci_dec[0], "decoder_ci_high": ci_dec[1],
        "positive_margin_successes": ok_pos,
        "worst_margin_over_distance": worst_ratio, "required_margin_over_distance": rho / 2,
        "m_jl": m_pts, "jl_successes": ok_jl, "jl_ci_low": ci_jl[0], "jl_ci_high": ci_jl[1],
        "confidence": CONFIDENCE, "target": 1 - delta,
        "positive_rate_at_fraction": {f"{f:g}": int(k) / trials for f, k in zip(fr, ok_frac)},
        "m_at_fraction": {f"{f:g}": max(1, int(np.ceil(f * m_dec))) for f in fr},
    }
    return passed, numbers


CLAIM = register(Claim(
    id="C6",
    title="Johnson-Lindenstrauss dimension keeps decoder margins",
    statement=statement,
    run=run,
    symbolic=symbolic,
    doc=__doc__ or "",
))
