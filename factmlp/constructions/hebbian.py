"""The Hebbian / bilinear construction (``method="hebbian"``).

Notation: keys ``K`` (F x d) with rows ``k_i``, values ``V`` (N x d), map
``f``; targets ``T`` (F x d) with rows ``t_i`` (``v_f(i)`` or the
margin-optimal readout direction ``u*_f(i)``).

Features.  ``A0, A1`` (m x d) have i.i.d. ``N(0, 1/s^2)`` entries, ``s`` the
root-mean-square key norm (so ``A0 k`` is O(1) for the given keys), and

    phi(x) = (A0 x) * (A1 x) / sqrt(m)            (m = hidden width),

``Phi`` (F x m) the feature matrix with rows ``phi(k_i)``.  This is a gated
MLP with identity activation: ``gate_proj = A0 / sqrt(m)``, ``up_proj = A1``,
``down_proj = W`` (d x m), ``g(x) = W phi(x)``.

Readout.

* ``ridge`` (default): ``W = T^T Phi (Phi^T Phi + lam' I)^{-1}`` with
  ``lam' = lam * tr(Phi^T Phi) / m`` -- ``lam`` is relative to the mean
  eigenvalue of the m x m Gram matrix, so it does not depend on the scale of
  the keys.  Solved by Cholesky on the smaller of ``Phi^T Phi`` (m x m) and
  ``Phi Phi^T`` (F x F) (push-through identity, same W).  ``lam = 0`` (the
  default) takes the minimum-norm least-squares solution (SVD, ``lstsq``):
  the exact interpolant when ``rank Phi = F``.
* ``raw``: ``W = c T^T Phi = c sum_i t_i phi(k_i)^T`` with
  ``c = F / ||Phi||_F^2`` (so the self term of ``g(k_i)`` is about ``t_i``;
  ``c`` does not change any argmax).

Guarantee.  ``phi(k)`` is quadratic in ``k``, so ``rank Phi <=
min(F, m, d(d+1)/2)`` (:mod:`theory.measure_zero`); for generic keys the rank
is ``F`` when ``F <= min(m, d(d+1)/2)``, and then the ridge readout with
``lam = 0`` interpolates the targets exactly, so with ``targets="directions"``
every fact has margin ``>= rho_f(i) ||v_f(i) - v_j|| > 0`` (``g(k_i) = v_f(i)``
need not decode when the values' norms differ).  The method claims to store
every fact only for ``readout="ridge"``, ``targets="directions"``, ``lam=0``,
``F <= d(d+1)/2``, at its default width ``m = F`` -- the defaults.  The
revision's ``lam = 1e-6`` leaves a relative residual of a few percent and
fails on poorly decodable sets (a condition-number family set with
rho = 0.083 kept 15/16 facts), so it claims nothing; neither does the raw
readout (default ``m = 4 d``).

Default targets: ``directions`` (``u*_f(i)``): measured to store at least as
many facts as ``values`` for the raw readout (docs/constructions_baselines.md).

Because ``phi(-k) = phi(k)``, keys equal up to sign but mapped to different
values cannot both be stored; they raise :class:`DegenerateKeysError`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.linalg

from ..errors import DegenerateKeysError, InvalidInputError, format_indices
from ..factset import FactSet
from ..mlp import GatedMLP
from ..validation import check_seed
from .registry import Built, feasibility, register_method

__all__ = [
    "build_hebbian",
    "hebbian_default_hidden",
    "hebbian_param_bound",
    "hebbian_features",
    "fact_targets",
    "check_keys",
    "READOUTS",
    "TARGETS",
]

READOUTS = ("ridge", "raw")
TARGETS = ("values", "directions")
DEFAULT_LAM = 0.0  # the interpolating limit; the revision used 1e-6, which claims no guarantee


def _options(readout: str = "ridge", targets: str = "directions", lam: float = DEFAULT_LAM, **unknown: Any) -> dict:
    if unknown:
        raise InvalidInputError(
            f"unknown option(s) {sorted(unknown)} for method 'hebbian'; expected readout, targets, lam"
        )
    if readout not in READOUTS:
        raise InvalidInputError(f"readout must be one of {READOUTS}, got {readout!r}")
    if targets not in TARGETS:
        raise InvalidInputError(f"targets must be one of {TARGETS}, got {targets!r}")
    if isinstance(lam, (bool, np.bool_)) or not isinstance(lam, (int, float, np.integer, np.floating)):
        raise InvalidInputError(f"lam must be a finite number >= 0, got {lam!r}")
    if not (math.isfinite(float(lam)) and float(lam) >= 0):
        raise InvalidInputError(f"lam must be a finite number >= 0, got {lam!r}")
    return {"readout": readout, "targets": targets, "lam": float(lam)}


def fact_targets(factset: FactSet, targets: str) -> np.ndarray:
    """Target rows ``T`` (F x d): ``v_f(i)`` (``values``) or ``u*_f(i)`` (``directions``, unit readouts)."""
    if targets == "values":
        return np.asarray(factset.targets, dtype=np.float64)
    if targets == "directions":
        return np.asarray(feasibility(factset).directions, dtype=np.float64)[factset.mapping]
    raise InvalidInputError(f"targets must be one of {TARGETS}, got {targets!r}")


def check_keys(factset: FactSet, *, sign_symmetric: bool) -> np.ndarray:
    """Refuse keys no bias-free MLP of this kind can store; return one index per distinct key.

    Raises :class:`DegenerateKeysError` naming (a) zero keys (``g(0) = 0`` for
    every bias-free gated MLP, so every margin is 0) and (b) keys equal to an
    earlier key -- or, when ``sign_symmetric`` (the map is even, ``g(-k) =
    g(k)``), to its negative -- but mapped to a different value.  Returns the
    sorted indices of the first key of every class (the distinct equations).
    """
    from .encdec import conflicting_duplicate_keys

    K = np.asarray(factset.keys, dtype=np.float64) + 0.0  # -0.0 -> +0.0
    zero = np.flatnonzero(~np.any(K != 0, axis=1))
    if zero.size:
        idx = zero.tolist()
        raise DegenerateKeysError(
            f"keys {format_indices(idx)} are zero: a bias-free MLP maps them to 0, so no margin is positive",
            indices=idx,
        )
    if sign_symmetric:  # canonical sign: first nonzero coordinate positive
        first = np.argmax(K != 0, axis=1)
        K = K * np.sign(K[np.arange(K.shape[0]), first])[:, None]
    canon = FactSet(K, factset.values, factset.mapping)
    pairs = conflicting_duplicate_keys(canon)
    if pairs:
        idx = sorted({i for p in pairs for i in p})
        what = "equal up to sign (the map is even)" if sign_symmetric else "identical"
        raise DegenerateKeysError(
            f"keys {format_indices(idx)} are {what} but mapped to different values "
            f"(pairs {pairs[:5]}{' ...' if len(pairs) > 5 else ''}); no such MLP stores both",
            indices=idx,
        )
    _, first_idx = np.unique(K, axis=0, return_index=True)
    return np.sort(first_idx)


def hebbian_features(keys: np.ndarray, hidden: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``A0, A1`` (m x d, entries ``N(0, 1/s^2)``, ``s`` = RMS key norm); return ``(A0, A1)``.

    The features are ``phi(k) = (A0 k) * (A1 k) / sqrt(m)``.
    """
    d = keys.shape[1]
    s = math.sqrt(float(np.mean(np.sum(keys * keys, axis=1)))) or 1.0
    A0 = rng.standard_normal((hidden, d)) / s
    A1 = rng.standard_normal((hidden, d)) / s
    return A0, A1


def _ridge(Phi: np.ndarray, T: np.ndarray, lam: float) -> tuple[np.ndarray, float]:
    """``W^T = (Phi^T Phi + lam' I)^{-1} Phi^T T`` (m x d), ``lam' = lam tr(Phi^T Phi)/m``; returns (W^T, lam')."""
    F, m = Phi.shape
    scale = float(np.sum(Phi * Phi)) / m
    lam_eff = lam * scale
    if lam == 0 or scale == 0:
        WT, *_ = np.linalg.lstsq(Phi, T, rcond=None)
        return WT, 0.0
    try:
        if m <= F:
            cho = scipy.linalg.cho_factor(Phi.T @ Phi + lam_eff * np.eye(m), lower=True, check_finite=False)
            return scipy.linalg.cho_solve(cho, Phi.T @ T, check_finite=False), lam_eff
        cho = scipy.linalg.cho_factor(Phi @ Phi.T + lam_eff * np.eye(F), lower=True, check_finite=False)
        return Phi.T @ scipy.linalg.cho_solve(cho, T, check_finite=False), lam_eff
    except np.linalg.LinAlgError as exc:  # lam' > 0 keeps the matrix PD; only rounding can fail here
        raise DegenerateKeysError(f"Hebbian ridge system not positive definite ({exc})") from exc


def build_hebbian(factset: FactSet, hidden: int, seed: Any = 0, **options: Any) -> Built:
    """Hebbian / bilinear MLP of width ``m = hidden`` for ``factset`` (see the module docstring).

    Options: ``readout`` (``ridge`` default, or ``raw``), ``targets``
    (``directions`` default, or ``values``), ``lam`` (relative ridge; default
    0 = minimum-norm least squares, the revision's 1e-6 is biased).  Returns a :class:`Built` whose MLP
    has identity activation, ``gate = A0/sqrt(m)``, ``up = A1``, ``down = W``;
    ``info`` holds the relative residual ``||Phi W^T - T||_F / ||T||_F``.

    Raises :class:`DegenerateKeysError` for zero keys and for keys equal up
    to sign but mapped to different values; :class:`InvalidInputError` for
    bad options.
    """
    opts = _options(**options)
    check_keys(factset, sign_symmetric=True)
    rng = check_seed(seed)
    K = np.asarray(factset.keys, dtype=np.float64)
    m = int(hidden)
    A0, A1 = hebbian_features(K, m, rng)
    gate = A0 / math.sqrt(m)
    Phi = (K @ gate.T) * (K @ A1.T)  # (F, m): phi(k_i) = (A0 k_i) * (A1 k_i) / sqrt(m)
    T = fact_targets(factset, opts["targets"])
    lam_eff = None
    if opts["readout"] == "ridge":
        WT, lam_eff = _ridge(Phi, T, opts["lam"])
    else:
        fro2 = float(np.sum(Phi * Phi))
        WT = Phi.T @ T * (factset.n_facts / fro2 if fro2 > 0 else 1.0)
    resid = float(np.linalg.norm(Phi @ WT - T) / max(np.linalg.norm(T), 1e-300))
    meta = {"method": "hebbian", "readout": opts["readout"], "targets": opts["targets"]}
    mlp = GatedMLP(gate, A1, WT.T, "identity", meta)
    info = {
        "readout": opts["readout"],
        "targets": opts["targets"],
        "lam": opts["lam"],
        "lam_effective": lam_eff,
        "relative_residual": resid,
        "feature_rank_cap": factset.dim * (factset.dim + 1) // 2,
    }
    return Built(mlp, info=info)


def hebbian_default_hidden(factset: FactSet, **options: Any) -> int:
    """``m = F`` for the ridge readout (interpolation needs ``m >= F``), ``m = 4 d`` for the raw readout."""
    from theory.param_counts import hidden_width

    opts = _options(**options)
    return hidden_width(f"hebbian_{opts['readout']}", F=factset.n_facts, d=factset.dim)


def hebbian_param_bound(factset: FactSet, hidden: int, **options: Any) -> int:
    """The theory's folded count ``3 d m`` at the default width (``m = F`` ridge, ``4 d`` raw)."""
    from theory.param_counts import param_count

    opts = _options(**options)
    return param_count(f"hebbian_{opts['readout']}", "folded", F=factset.n_facts, d=factset.dim)


def _guarantee(factset: FactSet, **options: Any) -> bool:
    """Ridge readout, directions as targets, ``lam = 0`` (exact interpolation), ``F <= d(d+1)/2`` (rank cap).

    A positive ``lam`` biases the fit (relative residual 2.5-5% at the revision's
    1e-6 on spherical sets) and fails on poorly decodable sets, so it claims nothing.
    """
    opts = _options(**options)
    d = factset.dim
    return (
        opts["readout"] == "ridge"
        and opts["targets"] == "directions"
        and opts["lam"] == 0
        and factset.n_facts <= d * (d + 1) // 2
    )


register_method(
    "hebbian",
    build_hebbian,
    default_hidden=hebbian_default_hidden,
    guarantee=_guarantee,
    param_bound=hebbian_param_bound,
    description="Hebbian/bilinear: random quadratic features (A0 x)*(A1 x)/sqrt(m), ridge or raw readout",
)
