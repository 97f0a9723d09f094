"""Wolfe's minimum-norm-point algorithm, written on a Gram matrix.

Given points ``p_1..p_k`` in ``R^d`` through their Gram matrix
``G[a, b] = <p_a, p_b>`` (shape ``(k, k)``), find

    lambda* = argmin_{lambda in simplex_k} lambda^T G lambda,

i.e. the point ``x* = sum_a lambda*_a p_a`` of ``conv{p_a}`` nearest the
origin.  Wolfe's algorithm (Wolfe 1976) keeps an affinely independent
"corral" ``S`` and convex weights on it.  A major cycle adds the point
minimising ``<p_a, x>`` (the Frank-Wolfe vertex); a minor cycle moves to the
affine minimiser of ``S`` (a bordered linear system), stepping back to the
boundary of the simplex and dropping points whose weight reaches zero
whenever the affine minimiser leaves it.  It stops when the optimality gap
``||x||^2 - min_a <p_a, x>`` is at most ``rel_tol * ||x||^2`` (the KKT
condition of the simplex problem, made relative), or when ``||x||^2`` falls
below ``zero_tol`` (the origin lies in the hull, up to rounding).

The affine minimiser comes from a Cholesky factor of ``G_SS + 1 1^T`` updated
when a point enters or leaves the corral, with the bordered solve as the
fallback near affine dependence.

Everything here is ``k``-dimensional: the caller forms ``G`` once per
problem, so the cost of an iteration does not depend on ``d``.

The kernels (``_chol_*``, ``_affine_minimizer``, ``_wolfe``) are NumPy code on
preallocated arrays -- the corral as index/weight arrays with a size counter,
the factor as a ``(cap, cap)`` array whose leading ``s x s`` block is in use --
so that :func:`factmlp._jit.jit` can compile them with numba; without numba
(or with ``FACTMLP_NO_JIT=1``) the same functions run interpreted.  The one
primitive with two implementations is the triangular solve
(:func:`_tri_solve`): LAPACK ``dtrtrs`` when interpreted (a Python loop would
be ~3x slower overall), substitution loops inside compiled kernels
(:func:`_tri_solve_loops`, registered by :func:`factmlp._jit.compiled_as`).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg.lapack import dtrtrs

from ._jit import compiled_as, jit
from .errors import EmptyInputError, MappingRangeError, ShapeError, format_indices

__all__ = ["wolfe_gram"]

_PIVOT = 1e-12  # a Cholesky pivot below this fraction of its diagonal: treat the corral as affinely dependent


def _tri_solve(L: np.ndarray, s: int, b: np.ndarray, trans: bool) -> np.ndarray:
    """Solve ``L[:s, :s] z = b`` (``trans`` False) or ``L[:s, :s]^T z = b`` (True); ``L`` lower triangular.

    Interpreted: LAPACK ``dtrtrs``; inside compiled kernels: :func:`_tri_solve_loops`.
    """
    if s == 0:
        return np.zeros(0)
    return dtrtrs(L[:s, :s], b, lower=1, trans=1 if trans else 0)[0]


@compiled_as(_tri_solve)
def _tri_solve_loops(L: np.ndarray, s: int, b: np.ndarray, trans: bool) -> np.ndarray:
    """:func:`_tri_solve` by substitution (row-wise forward; column-wise back, reading rows of ``L``); ``O(s^2)``."""
    z = b[:s].copy()
    if not trans:
        for i in range(s):
            acc = z[i]
            for j in range(i):
                acc -= L[i, j] * z[j]
            z[i] = acc / L[i, i]
    else:
        for j in range(s - 1, -1, -1):
            z[j] = z[j] / L[j, j]
            zj = z[j]
            for i in range(j):
                z[i] -= L[j, i] * zj
    return z


@jit
def _chol_add(L: np.ndarray, s: int, col: np.ndarray, diag: float) -> bool:
    """Append row ``s`` to the Cholesky factor ``L[:s, :s]`` of ``M`` (lower, ``L L^T = M``).

    ``col`` (length ``s``) is the new point's ``M`` column against the corral,
    ``diag`` its ``M`` diagonal.  Forward substitution ``L[:s, :s] r = col``
    gives the new row ``r``, the pivot is ``diag - r^T r``.  Returns False
    (leaving row ``s`` unusable) when the pivot is not above ``_PIVOT * diag``
    (near affine dependence); ``O(s^2)``.
    """
    r = _tri_solve(L, s, col, False)
    L[s, :s] = r
    piv = diag - np.dot(r, r)
    if not piv > _PIVOT * diag:
        return False
    L[s, s] = np.sqrt(piv)
    L[:s, s] = 0.0
    return True


@jit
def _chol_factor(L: np.ndarray, m: np.ndarray) -> bool:
    """Cholesky factor of ``m`` (n x n) into ``L[:n, :n]`` by ``n`` calls of :func:`_chol_add`.

    Returns False when some pivot fails the test of :func:`_chol_add`.
    """
    for t in range(m.shape[0]):
        if not _chol_add(L, t, m[t, :t], m[t, t]):
            return False
    return True


@jit
def _chol_remove(L: np.ndarray, s: int, k: int) -> None:
    """Drop position ``k`` of the factor ``L[:s, :s]``; the result is ``L[:s-1, :s-1]``.

    Deleting row ``k`` leaves rows ``k..s-2`` lower Hessenberg; Givens
    rotations of columns ``(i, i+1)``, ``i = k..s-2``, restore the triangle
    (``L L^T`` is unchanged by column rotations), and column signs are set so
    the diagonal is positive; ``O(s^2)``.
    """
    s1 = s - 1
    L[k:s1, :s] = L[k + 1 : s, :s].copy()
    for i in range(k, s1):
        x, y = L[i, i], L[i, i + 1]
        r = np.hypot(x, y)
        if r == 0.0:
            continue
        c, sn = x / r, y / r
        ci = L[i:s1, i].copy()
        cj = L[i:s1, i + 1].copy()
        L[i:s1, i] = c * ci + sn * cj
        L[i:s1, i + 1] = -sn * ci + c * cj
        L[i, i + 1] = 0.0
    for i in range(k, s1):
        if L[i, i] < 0.0:
            L[i:s1, i] = -L[i:s1, i]
    L[:s, s1] = 0.0


@jit
def _chol_minimizer(L: np.ndarray, s: int) -> np.ndarray:
    """``mu = M^{-1} 1 / (1^T M^{-1} 1)`` from ``L[:s, :s]``: solve ``L z = 1``, then ``L^T mu = z``."""
    z = _tri_solve(L, s, _tri_solve(L, s, np.ones(s), False), True)
    tot = z.sum()
    return z / tot if tot != 0 else z


@jit
def _affine_minimizer(gs: np.ndarray) -> np.ndarray:
    """Weights ``mu`` (summing to 1) of the point of ``aff{p_S}`` nearest 0.

    Solves the bordered system ``[[G_SS, 1], [1^T, 0]] [mu; t] = [0; 1]``;
    falls back to least squares if it is numerically singular.
    """
    s = gs.shape[0]
    a = np.empty((s + 1, s + 1))
    a[:s, :s] = gs
    a[:s, s] = 1.0
    a[s, :s] = 1.0
    a[s, s] = 0.0
    b = np.zeros(s + 1)
    b[s] = 1.0
    singular = False
    sol = b
    try:
        sol = np.linalg.solve(a, b)
    except Exception:  # numpy.linalg.LinAlgError; numba only catches ``Exception``
        singular = True
    if singular or not np.all(np.isfinite(sol)):
        sol = np.linalg.lstsq(a, b, rcond=np.finfo(np.float64).eps * (s + 1))[0]
    mu = sol[:s]
    tot = mu.sum()
    return mu / tot if tot != 0 else mu


@jit
def _refactor(L: np.ndarray, g: np.ndarray, idx: np.ndarray) -> bool:
    """Factor ``M = G[idx, idx] + 1 1^T`` afresh into ``L``; False near affine dependence."""
    return _chol_factor(L, g[idx][:, idx] + 1.0)


@jit
def _wolfe(
    g: np.ndarray, start: np.ndarray, start_w: np.ndarray, rel_tol: float, zero_tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The solver of :func:`wolfe_gram` on validated arrays (``g`` C-contiguous float64)."""
    k = g.shape[0]
    cap = k + start.shape[0]  # the corral never holds more (a point enters only when not in it)
    S = np.empty(cap, np.int64)
    lam = np.empty(cap)
    s = 0
    for t in range(start.shape[0]):
        if start_w[t] > 0:
            S[s] = start[t]
            lam[s] = start_w[t]
            s += 1
    if s == 0:
        S[0] = np.argmin(np.diag(g))
        lam[0] = 1.0
        s = 1
    lam[:s] = lam[:s] / lam[:s].sum()
    L = np.empty((cap, cap))
    ok = _refactor(L, g, S[:s])
    converged = False
    for _ in range(max_iter):
        gx = lam[:s] @ g[S[:s]]  # <p_a, x> for every a (G symmetric)
        xx = np.dot(lam[:s], gx[S[:s]])
        if xx <= zero_tol:
            converged = True
            break
        a = np.argmin(gx)
        if xx - gx[a] <= rel_tol * xx:
            converged = True
            break
        if np.any(S[:s] == a):  # no progress possible in floating point
            break
        if ok:
            ok = _chol_add(L, s, g[S[:s], a] + 1.0, g[a, a] + 1.0)
        S[s] = a
        lam[s] = 0.0
        s += 1
        stalled = False
        # minor cycles
        for _inner in range(s + 1):
            if ok:
                mu = _chol_minimizer(L, s)
            else:
                mu = _affine_minimizer(g[S[:s]][:, S[:s]])
            if np.all(mu > 0):
                lam[:s] = mu
                break
            cur = lam[:s]
            neg = mu <= 0
            den = cur - mu  # >= 0 where mu <= 0, since lam >= 0 >= mu there
            ratios = np.where(neg, np.where(den > 0, cur / np.where(den > 0, den, 1.0), 0.0), np.inf)
            drop = np.argmin(ratios)  # the first position of the smallest ratio among mu <= 0
            theta = ratios[drop]
            if not theta < np.inf:  # no weight <= 0: mu has NaNs (rounding); stop where we are
                stalled = True
                break
            cur = cur + theta * (mu - cur)
            if theta == 0.0 and S[drop] == a:
                stalled = True  # the new point cannot enter: floating-point limit
            cur[drop] = 0.0
            keep = cur > 0
            if ok:
                gone = np.flatnonzero(~keep)
                for t in range(gone.shape[0] - 1, -1, -1):
                    _chol_remove(L, s, gone[t])
                    s -= 1
                n = s
            else:
                n = int(keep.sum())
            S[:n] = S[: keep.shape[0]][keep].copy()
            kept = cur[keep]
            lam[:n] = kept / kept.sum()
            s = n
            if s == 1 or stalled:
                break
        if stalled:
            break
        if not ok:  # near affine dependence: refactor from scratch (may stay on the bordered solve)
            ok = _refactor(L, g, S[:s])
    pos = lam[:s] > 0  # all of them, unless the NaN guard above stopped a minor cycle midway
    supp, wts = S[:s][pos], lam[:s][pos]
    order = np.argsort(supp)
    return supp[order].copy(), wts[order].copy(), converged


class _Factor:
    """Cholesky factor ``L`` (lower) of ``M = G_SS + 1 1^T`` for a corral ``S``, kept up to date.

    On the affine hull (``sum mu = 1``) ``mu^T M mu = mu^T G_SS mu + 1``, so
    the affine minimiser is ``mu = M^{-1} 1 / (1^T M^{-1} 1)``; ``M`` is
    positive definite exactly when the corral is affinely independent.  An
    object view of the kernels :func:`_chol_add` (one forward substitution),
    :func:`_chol_remove` (Givens rotations) and :func:`_chol_minimizer` (two
    triangular solves) that :func:`_wolfe` runs on its own buffer.  ``ok``
    turns False when a pivot is not safely positive (near affine dependence).
    """

    __slots__ = ("_buf", "_s", "ok")

    def __init__(self, m: np.ndarray) -> None:
        m = np.ascontiguousarray(m, dtype=np.float64)
        self._buf = np.zeros((m.shape[0] + 8, m.shape[0] + 8))
        self.ok = bool(_chol_factor(self._buf, m))
        self._s = m.shape[0] if self.ok else 0

    @property
    def L(self) -> np.ndarray:
        """The factor, ``(s, s)`` lower triangular (a copy)."""
        return np.tril(self._buf[: self._s, : self._s])

    def add(self, col: np.ndarray, diag: float) -> None:
        """Append a point with ``M`` column ``col`` (against the corral) and diagonal ``diag``."""
        s = self._s
        if s + 1 > self._buf.shape[0]:
            grown = np.zeros((2 * s + 8, 2 * s + 8))
            grown[:s, :s] = self._buf[:s, :s]
            self._buf = grown
        if _chol_add(self._buf, s, np.ascontiguousarray(col, dtype=np.float64), float(diag)):
            self._s = s + 1
        else:
            self.ok = False

    def remove(self, k: int) -> None:
        """Drop corral position ``k``."""
        _chol_remove(self._buf, self._s, int(k))
        self._s -= 1

    def minimizer(self) -> np.ndarray:
        """``mu = M^{-1} 1 / (1^T M^{-1} 1)``."""
        return _chol_minimizer(self._buf, self._s)


def wolfe_gram(
    g: np.ndarray,
    start: np.ndarray | None = None,
    start_weights: np.ndarray | None = None,
    *,
    rel_tol: float = 1e-13,
    zero_tol: float = 1e-26,
    max_iter: int | None = None,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Minimum-norm point of ``conv{p_a}`` from the Gram matrix ``g`` (k x k).

    Parameters
    ----------
    g : (k, k) symmetric positive semidefinite array, ``g[a, b] = <p_a, p_b>``.
    start, start_weights : optional warm start, a support (indices into
        ``0..k-1``) and positive weights on it (normalised here; entries with
        weight ``<= 0`` are dropped).
    rel_tol : stop when ``||x||^2 - min_a <p_a, x> <= rel_tol * ||x||^2``.
    zero_tol : stop when ``||x||^2 <= zero_tol`` (origin in the hull).

    Returns
    -------
    support : int64 array of the indices with positive weight, increasing
    weights : float64 array, same length, non-negative, summing to 1
    converged : True when one of the two stopping tests was met.

    Runs compiled by numba when it is installed (see :mod:`factmlp._jit`).
    """
    g = np.ascontiguousarray(g, dtype=np.float64)
    if g.ndim != 2 or g.shape[0] != g.shape[1]:
        raise ShapeError(f"Gram matrix must be square (k, k), got shape {g.shape}")
    k = g.shape[0]
    if k == 0:
        raise EmptyInputError("Gram matrix has no points (k = 0)")
    if max_iter is None:
        max_iter = 50 * k + 100
    if start is None or len(start) == 0:
        st, w = np.zeros(0, np.int64), np.zeros(0)
    else:
        st = np.asarray(start, dtype=np.int64).ravel()
        w = np.ones(len(st)) if start_weights is None else np.asarray(start_weights, dtype=np.float64).ravel()
        if w.shape != st.shape:
            raise ShapeError(f"start has {len(st)} indices but start_weights has {w.size} entries")
        bad = np.flatnonzero((st < 0) | (st >= k))
        if bad.size:
            raise MappingRangeError(
                f"warm-start indices outside [0, {k}) at positions {format_indices(bad.tolist())}", indices=bad.tolist()
            )
    return _wolfe(g, st, w, float(rel_tol), float(zero_tol), int(max_iter))
