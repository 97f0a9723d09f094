"""The NTK / prior construction (``method="ntk"``): a kernel solve for the up weights.

Notation: keys ``K`` (F x d), rows ``k_i``; targets ``t_i = u*_f(i)``, the
margin-optimal readout direction of value ``f(i)`` (:mod:`factmlp.decodability`),
so an exact fit ``g(k_i) = t_i`` gives every fact the margin
``<t_i, v_f(i) - v_j> >= rho_f(i) ||v_f(i) - v_j|| > 0``.

The MLP is ``g(x) = D (act(G x) * (A x))`` with ``G`` (h x d) random
(entries ``N(0, 1/s^2)``, ``s`` the RMS key norm), ``D`` (d x h) random with
unit-norm columns, and ``A`` (h x d) solved.  With ``s_i = act(G k_i)`` (h,)
the fit is linear in ``A``:

    D diag(s_i) A k_i = t_i          (i = 1..F: F d equations, h d unknowns)

(the matrix is :func:`theory.measure_zero.ntk_system_matrix`).  Kernel form:
the minimum-norm solution is ``A = sum_j diag(s_j) D^T y_j k_j^T =
(S o (Y D))^T K`` (``S`` = F x h matrix of the ``s_i``, ``Y`` F x d) where

    (K Y)_i = sum_j (k_i . k_j) D diag(s_i * s_j) D^T y_j = t_i,

a symmetric PSD operator on ``R^{F d}``; in matrix form ``K Y = (S o
(K K^T (S o (Y D)))) D^T``.  It is solved densely (block Cholesky of the
``Fd x Fd`` Gram, plus three steps of iterative refinement) when ``F d <=
dense_max`` (default 16384: an 8 (F d)^2-byte Gram, 2 GiB at the limit),
else matrix-free by conjugate gradients with a block-Jacobi preconditioner
(the ``d x d`` diagonal blocks ``|k_i|^2 D diag(s_i^2) D^T``) to the
relative residual ``rtol``.  At the default width ``h = F`` the system is
square and badly conditioned (condition numbers 1e8 to 1e10 measured for
d = 16, F = 128), so CG needs thousands of iterations even at F d = 2048 and
made no progress in 4500 iterations at F d = 16384: the dense limit is set
by memory, not by the ~6000 first planned.

When ``h >= F`` (the default ``h = F``), and the activation is not
``identity`` with ``F > d(d+1)/2`` (the identity rank cap), the fit is
expected to be exact for generic keys (:func:`theory.measure_zero.ntk_derivation`);
a relative residual ``||g(K) - T||_F / ||T||_F`` above ``tol`` (default
1e-6: float64 solves of the square system reach 1e-10 to 1e-8, a singular
one leaves O(1e-4) or more) then raises :class:`DegenerateKeysError` naming
the worst-fitted keys.  Otherwise (``h < F``: more equations than
unknowns) the ridge solution with ``lam' = lam * mean diag`` is returned
and its residual reported, never raised.  ``guarantee`` is claimed for silu
and gelu (analytic gates: degeneracy has measure zero).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse.linalg as spla

from .._linalg import BLOCK
from .._linalg import cho_solve_blocked as _cho_solve_blocked
from .._linalg import cholesky_blocked as _cholesky_blocked
from ..errors import ConvergenceError, DegenerateKeysError, InvalidInputError, format_indices
from ..factset import FactSet
from ..mlp import ACTIVATIONS, GatedMLP, activation_fn
from ..validation import check_seed
from .hebbian import check_keys, fact_targets
from .registry import Built, register_method

__all__ = ["build_ntk", "ntk_default_hidden", "ntk_param_bound", "kernel_apply"]

DENSE_MAX = 16384  # F d up to which the Gram (8 (F d)^2 bytes, 2 GiB here) is factored densely
CG_MAXITER = 2000  # default CG iteration cap: the square (h = F) system is so badly conditioned
#                    that CG may not converge at all; the cap makes that an error in seconds
#                    (25 s at F d = 32768) instead of a run without a known end

JITTER = 1e-14  # relative diagonal shift for the Cholesky factor only; refinement removes its bias


def _check_num(name: str, value: Any, *, positive: bool) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidInputError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        raise InvalidInputError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
    return v


def _options(
    activation: str = "silu",
    dense_max: int = DENSE_MAX,
    rtol: float = 1e-10,
    tol: float = 1e-6,
    lam: float = 1e-10,
    maxiter: int | None = None,
    **unknown: Any,
) -> dict:
    if unknown:
        raise InvalidInputError(
            f"unknown option(s) {sorted(unknown)} for method 'ntk'; "
            f"expected activation, dense_max, rtol, tol, lam, maxiter"
        )
    if activation not in ACTIVATIONS:
        raise InvalidInputError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    for name, val in (("dense_max", dense_max), ("maxiter", maxiter)):
        if val is None and name == "maxiter":
            continue
        if isinstance(val, (bool, np.bool_)) or not isinstance(val, (int, np.integer)) or int(val) < 0:
            raise InvalidInputError(f"{name} must be an integer >= 0, got {val!r}")
    return {
        "activation": activation,
        "dense_max": int(dense_max),
        "rtol": _check_num("rtol", rtol, positive=True),
        "tol": _check_num("tol", tol, positive=True),
        "lam": _check_num("lam", lam, positive=False),
        "maxiter": None if maxiter is None else int(maxiter),
    }


def kernel_apply(Y: np.ndarray, S: np.ndarray, D: np.ndarray, gram: np.ndarray) -> np.ndarray:
    """``(K Y)_i = sum_j (k_i . k_j) D diag(s_i * s_j) D^T y_j`` for ``Y`` (F x d).

    ``S`` (F x h) rows ``s_i``, ``D`` (d x h), ``gram = K K^T`` (F x F).
    Equals ``fit(up(Y))`` with ``up(Y) = (S o (Y D))^T K`` and ``fit(A) = (S o (K A^T)) D^T``.
    """
    return (S * (gram @ (S * (Y @ D)))) @ D.T


def _dense_gram(S: np.ndarray, D: np.ndarray, gram: np.ndarray) -> np.ndarray:
    """The ``Fd x Fd`` Gram: entry ``((i,a),(j,b)) = (k_i . k_j) sum_l s_il s_jl D_al D_bl``."""
    F, h = S.shape
    d = D.shape[0]
    B = (S[:, None, :] * D[None, :, :]).reshape(F * d, h)
    M = B @ B.T
    M.reshape(F, d, F, d)[...] *= gram[:, None, :, None]
    return M


def _solve_dense(S, D, gram, T, lam_shift, jitter, block):
    """Cholesky of ``K + (lam_shift + jitter) I``, then refinement towards ``(K + lam_shift I) Y = T``."""
    F, d = T.shape
    M = _dense_gram(S, D, gram)
    M[np.diag_indices_from(M)] += lam_shift + jitter
    try:
        L = _cholesky_blocked(M, block)
    except np.linalg.LinAlgError:
        return None, {"solver": "dense", "cholesky": "failed"}
    Y = _cho_solve_blocked(L, T.reshape(-1), block).reshape(F, d)
    for _ in range(3):  # iterative refinement (removes the jitter's bias too)
        R = T - kernel_apply(Y, S, D, gram) - lam_shift * Y
        Y = Y + _cho_solve_blocked(L, R.reshape(-1), block).reshape(F, d)
    return Y, {"solver": "dense", "cholesky": "ok"}


def _solve_cg(S, D, gram, T, shift, rtol, maxiter):
    """``(K + shift I) Y = T`` by preconditioned CG (block Jacobi: ``|k_i|^2 D diag(s_i^2) D^T + shift I``)."""
    F, d = T.shape
    n = F * d
    blocks = np.einsum("il,al,bl->iab", S * S, D, D, optimize=True) * np.diag(gram)[:, None, None]
    blocks[:, np.arange(d), np.arange(d)] += shift
    try:
        L = np.linalg.cholesky(blocks)
        Linv = np.linalg.inv(L)
        Binv = np.einsum("iba,ibc->iac", Linv, Linv)
    except np.linalg.LinAlgError:
        Binv = None

    def matvec(y: np.ndarray) -> np.ndarray:
        Y = y.reshape(F, d)
        return (kernel_apply(Y, S, D, gram) + shift * Y).ravel()

    op = spla.LinearOperator((n, n), dtype=np.float64, matvec=matvec)
    pre = (
        None
        if Binv is None
        else spla.LinearOperator(
            (n, n), dtype=np.float64, matvec=lambda y: np.einsum("iab,ib->ia", Binv, y.reshape(F, d)).ravel()
        )
    )
    count = [0]
    y, flag = spla.cg(
        op,
        T.ravel(),
        rtol=rtol,
        atol=0.0,
        maxiter=maxiter if maxiter is not None else CG_MAXITER,
        M=pre,
        callback=lambda _x: count.__setitem__(0, count[0] + 1),
    )
    return y.reshape(F, d), {
        "solver": "cg",
        "cg_iterations": count[0],
        "cg_converged": flag == 0,
        "preconditioner": "block-jacobi" if Binv is not None else "none",
    }


def build_ntk(factset: FactSet, hidden: int, seed: Any = 0, **options: Any) -> Built:
    """NTK-style MLP ``g(x) = D (act(G x) * (A x))`` of width ``h = hidden`` (see the module docstring).

    Options: ``activation`` (``silu`` default; ``relu``, ``gelu``, ``identity``),
    ``dense_max`` (largest ``F d`` solved densely, default 16384), ``rtol``
    (CG relative residual target, 1e-10), ``tol`` (relative residual above
    which an exact fit counts as failed, 1e-6), ``lam`` (relative ridge when
    no exact fit is expected, 1e-10), ``maxiter`` (CG iterations, default
    ``CG_MAXITER`` = 2000).  ``info`` reports ``relative_residual``
    ``||g(K) - T||_F / ||T||_F``, the largest per-key residual and the solver.

    Raises :class:`DegenerateKeysError` for zero keys, for keys identical
    (up to sign with identity gates) but mapped to different values, and when
    an exact fit is expected but not reached (naming the worst-fitted keys);
    :class:`~factmlp.errors.ConvergenceError` instead when that exact fit
    went to CG (``F d > dense_max``) and CG stopped at ``maxiter`` without
    reaching ``rtol``: then the keys are not known to be at fault.
    """
    opts = _options(**options)
    act = opts["activation"]
    reps = check_keys(factset, sign_symmetric=(act == "identity"))
    rng = check_seed(seed)
    K = np.asarray(factset.keys, dtype=np.float64)
    F, d = K.shape
    h = int(hidden)
    s = math.sqrt(float(np.mean(np.sum(K * K, axis=1)))) or 1.0
    G = rng.standard_normal((h, d)) / s
    D = rng.standard_normal((d, h))
    D /= np.linalg.norm(D, axis=0)
    T = fact_targets(factset, "directions")

    # distinct keys carry the system (duplicates have equal targets, checked above)
    Ku, Tu = K[reps], T[reps]
    Fu = Ku.shape[0]
    S = activation_fn(act)(Ku @ G.T)
    gram = Ku @ Ku.T
    exact = h >= Fu and not (act == "identity" and Fu > d * (d + 1) // 2)
    if exact and act == "relu":
        active = np.count_nonzero(S > 0, axis=1)
        few = reps[active < d]
        if few.size:
            idx = few.tolist()
            raise DegenerateKeysError(
                f"keys {format_indices(idx)} activate fewer than d = {d} relu gates, so their d equations "
                f"have rank < d and cannot be fitted exactly",
                indices=idx,
            )
    mean_diag = float(np.sum((S * S) @ (D * D).T * np.diag(gram)[:, None])) / (Fu * d)
    shift = 0.0 if exact else opts["lam"] * mean_diag
    if Fu * d <= opts["dense_max"]:
        Y, solver = _solve_dense(S, D, gram, Tu, shift, JITTER * mean_diag, BLOCK)
        if Y is None:  # numerically singular: a ridge solve, whose residual names the keys below
            ridge = max(opts["lam"], JITTER) * mean_diag
            Y, solver = _solve_dense(S, D, gram, Tu, ridge, JITTER * mean_diag, BLOCK)
            if Y is None:
                raise DegenerateKeysError(
                    f"NTK Gram matrix is not positive definite even with a ridge "
                    f"of {ridge:.3g}; keys or gates are degenerate"
                )
            solver = {"solver": "dense", "cholesky": "failed; ridge fallback"}
    else:
        Y, solver = _solve_cg(S, D, gram, Tu, shift, opts["rtol"], opts["maxiter"])
    A = (S * (Y @ D)).T @ Ku  # (h, d): sum_j diag(s_j) D^T y_j k_j^T

    mlp = GatedMLP(G, A, D, act, {"method": "ntk", "activation": act})
    R = mlp(K) - T
    per_key = np.linalg.norm(R, axis=1)
    resid = float(np.linalg.norm(R) / max(np.linalg.norm(T), 1e-300))
    if exact and not resid <= opts["tol"]:
        worst = np.argsort(-per_key, kind="stable")[:10]
        idx = sorted(int(i) for i in worst if per_key[i] > opts["tol"] * np.linalg.norm(T) / math.sqrt(F))
        idx = idx or sorted(int(i) for i in worst)
        if solver["solver"] == "cg" and not solver["cg_converged"]:
            gib = 8 * (Fu * d) ** 2 / 2**30
            raise ConvergenceError(
                f"NTK system not fitted: CG stopped after {solver['cg_iterations']} iterations (maxiter) at "
                f"relative residual {resid:.3g} > tol {opts['tol']:.3g}, F d = {Fu * d} > dense_max = "
                f"{opts['dense_max']}; the keys are not known to be degenerate. Solve densely with "
                f"dense_max >= {Fu * d} (a {gib:.3g} GiB Gram) or allow more CG iterations (maxiter). "
                f"Worst-fitted keys {format_indices(idx)}",
                indices=idx,
            )
        raise DegenerateKeysError(
            f"NTK system not fitted: relative residual {resid:.3g} > tol {opts['tol']:.3g} with h = {h} >= "
            f"{Fu} distinct keys (solver {solver['solver']}, keys span rank {np.linalg.matrix_rank(Ku)} of d = {d}); "
            f"worst-fitted keys {format_indices(idx)}",
            indices=idx,
        )
    info = {
        "activation": act,
        "relative_residual": resid,
        "max_key_residual": float(per_key.max()),
        "exact_system": exact,
        "distinct_keys": Fu,
        "shift": shift,
        **solver,
    }
    return Built(mlp, info=info)


def ntk_default_hidden(factset: FactSet, **options: Any) -> int:
    """``h = F``: one hidden unit per fact, so ``h d >= F d`` unknowns match the equations."""
    from theory.param_counts import hidden_width

    _options(**options)
    return hidden_width("ntk", F=factset.n_facts, d=factset.dim)


def ntk_param_bound(factset: FactSet, hidden: int, **options: Any) -> int:
    """The theory's folded count ``3 d F`` at the default width ``h = F``."""
    from theory.param_counts import param_count

    _options(**options)
    return param_count("ntk", "folded", F=factset.n_facts, d=factset.dim)


def _guarantee(factset: FactSet, **options: Any) -> bool:
    """silu / gelu: the kernel system has full rank off a null set of keys."""
    return _options(**options)["activation"] in ("silu", "gelu")


register_method(
    "ntk",
    build_ntk,
    default_hidden=ntk_default_hidden,
    guarantee=_guarantee,
    param_bound=ntk_param_bound,
    description="NTK/prior baseline: random gate and down map, up weights from a minimum-norm kernel solve",
)
