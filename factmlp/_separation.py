"""A rigorous test that given directions strictly separate given points from all others.

For points ``V`` (N x d), rows ``J`` and directions ``U`` (|J| x d, row ``k``
meant for point ``j = J[k]``), ``U[k]`` *separates* ``v_j`` when

    <u, v_j> - max_{l != j} <u, v_l> > 0,

which proves ``v_j`` a vertex of ``conv(V)`` distinct from every other point
(the hyperplane ``<u, x> = <u, v_j>`` touches the hull only at ``v_j``).
Any direction may be tried; the test only has to be sound for the vector
actually held.
"""

from __future__ import annotations

import numpy as np

from .decodability import unit_scale
from .errors import ValueRangeError

__all__ = ["separated"]

_UNIT = 2.0**-53  # unit roundoff of float64
_TINY = 2.0**-1022  # smallest normal float64: absolute error of one product under flush-to-zero


def separated(values: np.ndarray, rows: np.ndarray, directions: np.ndarray, block_entries: int = 1 << 20) -> np.ndarray:
    """Bool (|J|,): whether ``directions[k]`` provably separates ``values[rows[k]]`` from every other row.

    Floating point.  ``V`` is first scaled exactly by a power of two to
    max-abs in ``[1, 2)`` (:func:`factmlp.decodability.unit_scale`; all
    ``False`` when that would round an entry) and each ``u`` by a power of
    two to max-abs in ``[1/2, 1)``.  A computed dot product, in any
    summation order and with or without FMA, is then within
    ``gamma_d ||u|| ||v_l|| + d 2^-1022`` of the exact one (Higham's bound,
    plus underflow with flush-to-zero), and the computed gap within a factor
    ``1 + u`` of the difference it rounds; the test

        fl(<u, v_j> - max_l <u, v_l>) > 2 gamma_d ||u|| (||v_j|| + max_l ||v_l||) + 4 d 2^-1022

    therefore implies the exact gap is positive (the factor 2 also covers the
    rounding of the computed norms).  Duplicates of ``v_j``, points inside
    the hull, zero and non-finite directions are never separated.  Cost: one
    ``(B, N)`` product per block of ``B`` rows, ``B N <= block_entries``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    out = np.zeros(rows.size, dtype=bool)
    if rows.size == 0:
        return out
    try:
        Vs, _ = unit_scale(np.asarray(values, dtype=np.float64))
    except ValueRangeError:
        return out
    U = np.asarray(directions, dtype=np.float64)
    n, d = Vs.shape
    amax = np.max(np.abs(U), axis=1, keepdims=True)
    finite = np.isfinite(amax[:, 0]) & (amax[:, 0] > 0)
    with np.errstate(under="ignore"):
        Us = np.ldexp(U, -np.frexp(np.where(finite[:, None], amax, 1.0))[1])
    gamma = d * _UNIT / (1.0 - d * _UNIT)
    norms = np.sqrt(np.sum(Vs * Vs, axis=1))
    vmax = float(norms.max())
    chunk = max(1, block_entries // max(n, 1))
    for lo in range(0, rows.size, chunk):
        J, Ub = rows[lo : lo + chunk], Us[lo : lo + chunk]
        S = Ub @ Vs.T  # (B, N): <u, v_l>
        k = np.arange(J.size)
        own = S[k, J].copy()
        S[k, J] = -np.inf
        gap = own - S.max(axis=1)  # +inf when v_j is the only point (every other entry is -inf)
        allowance = 2.0 * gamma * np.sqrt(np.sum(Ub * Ub, axis=1)) * (norms[J] + vmax) + 4 * d * _TINY
        out[lo : lo + chunk] = gap > allowance
    return out & finite
