r"""C1 (feasibility): value ``j`` is decodable iff ``rho_j(V) > 0``.

Checked numerically against an independent oracle: the certified
min-norm-point solver (:func:`factmlp.decodability.decodability`, a value is
decodable when its certified lower bound on ``rho_j`` is positive) and the
exact vertex LP (:func:`factmlp.feasibility.is_vertex_lp`, HiGHS) must agree
on every value of random value sets with planted duplicates and planted
interior points (strict convex combinations of other values); and
:func:`factmlp.feasibility.check_feasible` must raise
:class:`~factmlp.errors.InfeasibleFactSetError` naming exactly the values the
LP finds non-decodable.

Decision rule: pass iff every per-value verdict agrees and every error names
exactly the LP's non-vertices.  No symbolic side (the equivalence is the
minimax duality stated in :mod:`factmlp.decodability`).
"""

from __future__ import annotations

import numpy as np

from ..framework import Claim, ClaimContext, register
from ._common import profile_sizes, subseed

# (family, d, N) per set; each set gets planted duplicates and interior points
SIZES = {
    "quick": {"sets": [("gaussian", 2, 30), ("gaussian", 3, 40), ("spherical", 3, 40), ("gaussian", 5, 48),
                       ("spherical", 8, 48), ("kaiming", 6, 48),
                       ("gaussian", 4, 100), ("uniform", 10, 120)], "duplicates": 3, "interior": 3},
    "full": {"sets": [(fam, d, n) for fam in ("gaussian", "spherical", "uniform", "kaiming")
                      for d, n in ((2, 60), (3, 100), (5, 150), (8, 200), (16, 200))],
             "duplicates": 5, "interior": 5},
}


def statement() -> str:
    return (r"\rho_j(V) = \max_{\|u\|\le 1}\min_{l\ne j}\frac{\langle v_j - v_l, u\rangle}{\|v_j - v_l\|} > 0"
            r"\iff v_j \in \operatorname{vert}\operatorname{conv}(V),\ v_j \ne v_l\ \forall l \ne j")


def planted_values(family: str, d: int, n: int, n_dup: int, n_int: int, seed: int) -> tuple[np.ndarray, dict]:
    """``n`` values in ``R^d`` from ``family`` with planted duplicates and interior points.

    Duplicates: row ``a`` := row ``b`` (``a != b``).  Interior: row ``a`` :=
    ``sum_l w_l v_l`` over 3 other rows with Dirichlet(1,1,1) weights (a
    strict convex combination of distinct points is never a vertex).
    Returns the (n, d) array and the planted indices.
    """
    from factmlp.families import make_embeddings

    rng = np.random.default_rng(seed)
    v = make_embeddings(family, n, d, rng)
    rows = rng.choice(n, size=n_dup + n_int, replace=False)
    dups, ints = rows[:n_dup], rows[n_dup:]
    for a in dups:
        b = int(rng.choice(np.setdiff1d(np.arange(n), [a])))
        v[a] = v[b]
    for a in ints:
        src = rng.choice(np.setdiff1d(np.arange(n), np.concatenate([[a], dups])), size=3, replace=False)
        v[a] = rng.dirichlet(np.ones(3)) @ v[src]
    return v, {"duplicates": sorted(int(a) for a in dups), "interior": sorted(int(a) for a in ints)}


def run(ctx: ClaimContext) -> tuple[bool, dict]:
    """Compare solver and LP verdicts on every value of every planted set."""
    from factmlp.decodability import decodability
    from factmlp.errors import InfeasibleFactSetError
    from factmlp.factset import FactSet
    from factmlp.families import make_embeddings
    from factmlp.feasibility import check_feasible, is_vertex_lp

    cfg = profile_sizes(ctx, SIZES)
    total = agree = 0
    disagreements: list = []
    error_mismatch: list = []
    widths_rel: list = []
    widths_abs: list = []
    rho_min_vertex = np.inf
    lp_non = solver_non = 0
    per_set = []
    for s, (family, d, n) in enumerate(cfg["sets"]):
        seed = subseed(ctx.seed, "C1", s)
        v, planted = planted_values(family, d, n, cfg["duplicates"], cfg["interior"], seed)
        rng = np.random.default_rng(subseed(ctx.seed, "C1-keys", s))
        fs = FactSet(make_embeddings("spherical", n, d, rng), v, rng.permutation(n))
        ctx.record_input(fs, seed)
        res = decodability(v)
        lp = np.array([is_vertex_lp(v, j) for j in range(n)])
        sol = np.asarray(res.vertex, dtype=bool)
        total += n
        agree += int(np.sum(lp == sol))
        for j in np.flatnonzero(lp != sol):
            disagreements.append({"set": s, "value": int(j), "lp_vertex": bool(lp[j]), "solver_vertex": bool(sol[j]),
                                  "lower": float(res.lower[j]), "upper": float(res.upper[j])})
        vx = np.flatnonzero(sol)
        if vx.size:
            w = res.upper[vx] - res.lower[vx]
            widths_abs.append(float(np.max(w)))
            widths_rel.append(float(np.max(w / res.upper[vx])))
            rho_min_vertex = min(rho_min_vertex, float(np.min(res.rho_per_value[vx])))
        lp_non += int(np.sum(~lp))
        solver_non += int(np.sum(~sol))
        expected = sorted(int(j) for j in np.flatnonzero(~lp))
        try:
            check_feasible(fs)
            named: list = []
        except InfeasibleFactSetError as exc:
            named = sorted(int(j) for j in exc.indices)
        if named != expected:
            error_mismatch.append({"set": s, "error_names": named, "lp_non_vertices": expected})
        planted_all = planted["duplicates"] + planted["interior"]
        per_set.append({"family": family, "d": d, "N": n, "seed": seed, "lp_non_vertices": len(expected),
                        "planted_detected": int(np.sum(~sol[planted_all])), "planted": len(planted_all),
                        "rho": float(res.rho)})
    passed = agree == total and not error_mismatch
    numbers = {
        "headline": ["agreements", "total", "max_rel_bracket_width", "lp_non_vertices"],
        "agreements": agree,
        "total": total,
        "disagreements": disagreements,
        "error_mismatches": error_mismatch,
        "lp_non_vertices": lp_non,
        "solver_non_vertices": solver_non,
        "max_rel_bracket_width": max(widths_rel) if widths_rel else float("nan"),
        "max_abs_bracket_width": max(widths_abs) if widths_abs else float("nan"),
        "min_rho_vertex": float(rho_min_vertex),
        "sets": per_set,
    }
    return passed, numbers


CLAIM = register(Claim(
    id="C1",
    title="Feasibility: decodable iff rho_j > 0",
    statement=statement,
    run=run,
    symbolic=None,
    doc=__doc__ or "",
))
