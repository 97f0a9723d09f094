"""Dense linear algebra shared by the constructions: a blocked Cholesky factorisation.

LAPACK's ``potrf`` in the OpenBLAS bundled with NumPy/SciPy crashed here on
matrices of 2^31 bytes and more (n = 16384 in float64); these routines hand
LAPACK blocks of at most ``BLOCK`` rows, so Gram systems of any size that fits
in memory can be factored.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

__all__ = ["BLOCK", "cholesky_blocked", "cho_solve_blocked"]

BLOCK = 8192  # largest block handed to LAPACK


def cholesky_blocked(M: np.ndarray, block: int) -> np.ndarray:
    """Lower Cholesky factor of the SPD ``M`` (n x n), overwriting ``M``'s lower triangle, by blocks.

    Right-looking block algorithm: ``L11 = chol(M11)``, ``L21 = M21 L11^{-T}``,
    ``M22 <- M22 - L21 L21^T``.  Every LAPACK call sees at most ``block`` rows,
    which keeps it below the 2^31-byte arrays on which the bundled OpenBLAS
    ``potrf`` crashes (observed at n = 16384).  Raises ``LinAlgError`` if not PD.
    """
    n = M.shape[0]
    for s in range(0, n, block):
        e = min(s + block, n)
        L11 = scipy.linalg.cholesky(M[s:e, s:e], lower=True, check_finite=False)
        M[s:e, s:e] = L11
        if e < n:
            L21 = scipy.linalg.solve_triangular(L11, M[e:, s:e].T, lower=True, check_finite=False).T
            M[e:, s:e] = L21
            for t in range(e, n, block):  # M22 -= L21 L21^T, lower block rows only
                u = min(t + block, n)
                M[t:u, e:u] -= L21[t - e : u - e] @ L21[: u - e].T
    return M


def cho_solve_blocked(L: np.ndarray, b: np.ndarray, block: int) -> np.ndarray:
    """Solve ``L L^T y = b`` with the factor of :func:`cholesky_blocked` (block triangular solves)."""
    n = L.shape[0]
    z = np.empty_like(b)
    for s in range(0, n, block):
        e = min(s + block, n)
        z[s:e] = scipy.linalg.solve_triangular(L[s:e, s:e], b[s:e] - L[s:e, :s] @ z[:s], lower=True, check_finite=False)
    y = np.empty_like(b)
    for s in reversed(range(0, n, block)):
        e = min(s + block, n)
        y[s:e] = scipy.linalg.solve_triangular(
            L[s:e, s:e], z[s:e] - L[e:, s:e].T @ y[e:], lower=True, trans="T", check_finite=False
        )
    return y
