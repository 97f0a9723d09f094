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

Everything here is ``k``-dimensional: the caller forms ``G`` once per
problem, so the cost of an iteration does not depend on ``d``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["wolfe_gram"]


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
        S.append(a)
        lam = np.append(lam, 0.0)
        stalled = False
        # minor cycles
        for _inner in range(len(S) + 1):
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
            S = [s for s, kk in zip(S, keep, strict=True) if kk]
            lam = lam[keep]
            lam = lam / lam.sum()
            if len(S) == 1 or stalled:
                break
        if stalled:
            break
    order = np.argsort(S)
    return np.asarray(S, dtype=np.int64)[order], lam[order], converged
