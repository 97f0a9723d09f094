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
when a point enters or leaves the corral (:class:`_Factor`), with the bordered
solve as the fallback near affine dependence.

Everything here is ``k``-dimensional: the caller forms ``G`` once per
problem, so the cost of an iteration does not depend on ``d``.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg.lapack import dpotrs, dtrtrs

__all__ = ["wolfe_gram"]

_PIVOT = 1e-12  # a Cholesky pivot below this fraction of its diagonal: treat the corral as affinely dependent


class _Factor:
    """Cholesky factor ``L`` (lower) of ``M = G_SS + 1 1^T`` for the corral ``S``, kept up to date.

    On the affine hull (``sum mu = 1``) ``mu^T M mu = mu^T G_SS mu + 1``, so
    the affine minimiser is ``mu = M^{-1} 1 / (1^T M^{-1} 1)``; ``M`` is
    positive definite exactly when the corral is affinely independent.
    Adding a point appends a row (one triangular solve, ``O(s^2)``);
    removing one restores the triangle with Givens rotations (``O(s^2)``).
    ``ok`` turns False when a pivot is not safely positive (near affine
    dependence); the caller then falls back to the bordered solve.
    """

    __slots__ = ("L", "ok")

    def __init__(self, m: np.ndarray) -> None:
        try:
            self.L = np.linalg.cholesky(m)
            self.ok = bool(np.all(np.diag(self.L) ** 2 > _PIVOT * np.diag(m)))
        except np.linalg.LinAlgError:
            self.L = np.zeros((0, 0))
            self.ok = False

    def add(self, col: np.ndarray, diag: float) -> None:
        """Append a point with ``M`` column ``col`` (against the corral) and diagonal ``diag``."""
        s = self.L.shape[0]
        r = dtrtrs(self.L, col, lower=1)[0] if s else np.zeros(0)
        piv = diag - float(r @ r)
        if not piv > _PIVOT * diag:
            self.ok = False
            return
        out = np.zeros((s + 1, s + 1))
        out[:s, :s] = self.L
        out[s, :s] = r
        out[s, s] = np.sqrt(piv)
        self.L = out

    def remove(self, k: int) -> None:
        """Drop corral position ``k``: delete row ``k`` of ``L``, re-triangularise by column rotations."""
        a = np.delete(self.L, k, axis=0)  # (s-1, s), lower-Hessenberg to the right of column k
        s1 = a.shape[0]
        for i in range(k, s1):
            x, y = a[i, i], a[i, i + 1]
            r = float(np.hypot(x, y))
            if r == 0.0:
                continue
            c, sn = x / r, y / r
            ci, cj = a[i:, i].copy(), a[i:, i + 1].copy()
            a[i:, i] = c * ci + sn * cj
            a[i:, i + 1] = -sn * ci + c * cj
        self.L = np.ascontiguousarray(a[:, :s1])
        # column signs are immaterial for L L^T; make the diagonal positive
        self.L *= np.where(np.diag(self.L) < 0, -1.0, 1.0)[None, :]

    def minimizer(self) -> np.ndarray:
        """``mu = M^{-1} 1 / (1^T M^{-1} 1)``."""
        s = self.L.shape[0]
        z = dpotrs(self.L, np.ones(s), lower=1)[0]
        tot = z.sum()
        return z / tot if tot != 0 else z


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
    try:
        sol = np.linalg.solve(a, b)
        if not np.all(np.isfinite(sol)):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        sol = np.linalg.lstsq(a, b, rcond=None)[0]
    mu = sol[:s]
    tot = mu.sum()
    return mu / tot if tot != 0 else mu


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
        ``0..k-1``) and positive weights on it (normalised here).
    rel_tol : stop when ``||x||^2 - min_a <p_a, x> <= rel_tol * ||x||^2``.
    zero_tol : stop when ``||x||^2 <= zero_tol`` (origin in the hull).

    Returns
    -------
    support : int64 array of the indices with positive weight
    weights : float64 array, same length, non-negative, summing to 1
    converged : True when one of the two stopping tests was met.
    """
    k = g.shape[0]
    if max_iter is None:
        max_iter = 50 * k + 100
    diag = np.diag(g)
    if start is not None and len(start) > 0:
        S = [int(i) for i in start]
        lam = np.asarray(start_weights, dtype=np.float64).copy() if start_weights is not None else np.ones(len(S))
        lam = np.maximum(lam, 0.0)
        keep = lam > 0
        S = [s for s, kk in zip(S, keep, strict=True) if kk]
        lam = lam[keep]
        if not S:
            S, lam = [int(np.argmin(diag))], np.ones(1)
        lam = lam / lam.sum()
    else:
        S, lam = [int(np.argmin(diag))], np.ones(1)

    def factor(corral: list) -> _Factor:
        ix = np.asarray(corral)
        return _Factor(g[np.ix_(ix, ix)] + 1.0)

    fac = factor(S)
    converged = False
    for _ in range(max_iter):
        gx = g[:, S] @ lam  # <p_a, x> for every a
        xx = float(lam @ gx[S])
        if xx <= zero_tol:
            converged = True
            break
        a = int(np.argmin(gx))
        if xx - gx[a] <= rel_tol * xx:
            converged = True
            break
        if a in S:  # no progress possible in floating point
            break
        if fac.ok:
            fac.add(g[S, a] + 1.0, float(g[a, a]) + 1.0)
        S.append(a)
        lam = np.append(lam, 0.0)
        stalled = False
        # minor cycles
        for _inner in range(len(S) + 1):
            if fac.ok:
                mu = fac.minimizer()
            else:
                idx = np.asarray(S)
                mu = _affine_minimizer(g[np.ix_(idx, idx)])
            if np.all(mu > 0):
                lam = mu
                break
            neg = mu <= 0
            den = lam[neg] - mu[neg]  # >= 0 since lam >= 0 >= mu there
            ratios = np.where(den > 0, lam[neg] / np.where(den > 0, den, 1.0), 0.0)
            theta = float(np.min(ratios))
            lam = lam + theta * (mu - lam)
            drop = np.flatnonzero(neg)[np.argmin(ratios)]
            if theta == 0.0 and S[drop] == a:
                stalled = True  # the new point cannot enter: floating-point limit
            lam[drop] = 0.0
            keep = lam > 0
            if fac.ok:
                for pos in np.flatnonzero(~keep)[::-1]:
                    fac.remove(int(pos))
            S = [s for s, kk in zip(S, keep, strict=True) if kk]
            lam = lam[keep]
            lam = lam / lam.sum()
            if len(S) == 1 or stalled:
                break
        if stalled:
            break
        if not fac.ok:  # near affine dependence: refactor from scratch (may stay on the bordered solve)
            fac = factor(S)
    order = np.argsort(S)
    return np.asarray(S, dtype=np.int64)[order], lam[order], converged
