"""Feasibility of a fact set: every value the map uses must be decodable.

Value ``j`` is decodable by some function iff some direction ``u`` has
``<u, v_j> > <u, v_l>`` for all ``l != j``, i.e. ``v_j`` is a vertex of
``conv(V)`` and distinct from every other value (``rho_j > 0``).  Values the
map does not use never make a fact set infeasible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .decodability import DecodabilityResult, decodability, unit_scale
from .errors import InfeasibleFactSetError, InvalidInputError, MappingRangeError
from .validation import check_matrix

__all__ = ["check_feasible", "infeasibility_problems", "is_vertex_lp"]


def infeasibility_problems(res: DecodabilityResult) -> list[dict]:
    """One dict per requested value that is not a certified vertex.

    ``{"value": j, "reason": "duplicate" | "inside_hull", "duplicate_of": k | None,
    "rho_upper": float}``; a value whose certified bracket only straddles 0
    (``lower <= 0 < upper``) is reported as ``inside_hull`` with its upper bound.
    """
    out = []
    for j in res.non_vertices():
        j = int(j)
        k = int(res.duplicate_of[j])
        if k >= 0:
            out.append({"value": j, "reason": "duplicate", "duplicate_of": k, "rho_upper": 0.0})
        else:
            out.append({"value": j, "reason": "inside_hull", "duplicate_of": None, "rho_upper": float(res.upper[j])})
    return out


def check_feasible(factset: Any, *, tol: float = 1e-9) -> DecodabilityResult:
    """Decodability over ``factset.used_values``; raise if some used value is not decodable.

    Returns the :class:`DecodabilityResult` (``rho`` = min over used values of
    ``rho_j``).  Raises :class:`InfeasibleFactSetError` whose ``problems`` list
    every used value that is not a certified vertex (``lower_j <= 0``): a
    duplicate of value ``k``, or inside the hull of the others.
    """
    from .factset import FactSet

    if not isinstance(factset, FactSet):
        raise InvalidInputError(f"check_feasible expects a FactSet, got {type(factset).__name__}")
    res = decodability(factset.values, factset.used_values, tol=tol)
    problems = infeasibility_problems(res)
    if problems:
        raise InfeasibleFactSetError(problems)
    return res


def is_vertex_lp(values: Any, j: int) -> bool:
    """True iff ``v_j`` is not a convex combination of the other values (HiGHS LP).

    Solves the feasibility LP ``find mu >= 0, sum mu = 1, sum_{l != j} mu_l v_l = v_j``
    with :func:`scipy.optimize.linprog`; ``v_j`` is a vertex of ``conv(V)``
    distinct from the others iff it is infeasible.  An exact duplicate is
    never a vertex.  Independent of the min-norm-point solver (used as a check).
    The values are first scaled exactly by a power of two to max-abs in
    ``[1, 2)`` (:func:`factmlp.decodability.unit_scale`).
    """
    from scipy.optimize import linprog

    v = check_matrix(values, "values", min_rows=2, dtype=np.float64)
    n = v.shape[0]
    j = int(j)
    if not 0 <= j < n:
        raise MappingRangeError(f"value index {j} outside [0, {n})", indices=[j])
    others = np.delete(v, j, axis=0)
    if np.any(np.all(others == v[j], axis=1)):
        return False
    v, _ = unit_scale(v)  # exact, and vertex-ness is scale-invariant: HiGHS tolerances are absolute
    others = np.delete(v, j, axis=0)
    a_eq = np.vstack([others.T, np.ones((1, n - 1))])
    b_eq = np.concatenate([v[j], [1.0]])
    res = linprog(np.zeros(n - 1), A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    # status 2: infeasible -> vertex; status 0: a convex combination exists
    return bool(res.status == 2)
