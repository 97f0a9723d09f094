"""``polish``: repair the facts a gated MLP fails by the margin construction's convex steps.

For a gated MLP ``g(x) = D (act(G x) * (U x))`` (any method, or GD) and a
fact set ``(K, V, f)``, let ``C(g)`` be the set of facts that
:func:`factmlp.verify.verify_storage` certifies stored.  :func:`polish` runs
the steps of :func:`factmlp.constructions.margin.margin_fit` from ``g``'s own
weights: squared-hinge solves ``sum_{i, j in A_i} max(0, gamma - m_ij)^2`` over
``D`` (given ``G, U``; convex), over ``U`` (given ``G, D``; convex), then
joint ``(G, U, D)`` chunks, with ``gamma`` the median float64 margin of the
facts ``g`` already stores (its own scale).  Each step's result ``g'`` is
verified, and **accepted only if** ``C(g') ⊇ C(g)`` for the current ``g``
(set inclusion, not a count); otherwise the shorter steps ``g + t (g' - g)``, ``t = 1/2, 1/4``, are
tried (convex in the block, so their loss is no larger than ``g``'s), and if
none is accepted the weights stay as they were.  Hence, by induction over the
accepted steps, the returned MLP certifies every fact the input certified.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InvalidInputError, ShapeError
from .factset import FactSet
from .mlp import GatedMLP
from .validation import check_seed

__all__ = ["polish", "certified_set"]


def certified_set(report: Any) -> set[int]:
    """The fact indices a :class:`~factmlp.verify.StorageReport` certifies stored: ``[F]`` minus ``failing``."""
    return set(range(int(report.total))) - set(np.asarray(report.failing).ravel().tolist())


def _revive(W: dict[str, np.ndarray], rng: np.random.Generator, key_scale: float) -> int:
    """Give dead units (zero up row and zero down column) seeded random gate and up rows; ``g`` is unchanged.

    Such a unit contributes nothing and has zero gradient in every block;
    with a nonzero gate and up row its down column becomes trainable.
    """
    dead = np.flatnonzero(~np.any(W["up"] != 0, axis=1) & ~np.any(W["down"] != 0, axis=0))
    if dead.size:
        d = W["up"].shape[1]
        W["gate"][dead] = rng.standard_normal((dead.size, d)) / key_scale
        W["up"][dead] = rng.standard_normal((dead.size, d)) / key_scale
    return int(dead.size)


def polish(mlp: GatedMLP, factset: FactSet, seed: Any = 0, **options: Any) -> tuple[GatedMLP, Any]:
    """Repair the facts ``mlp`` fails on ``factset``, never losing one it certified (see the module docstring).

    Parameters
    ----------
    mlp : a :class:`~factmlp.mlp.GatedMLP` of any width, on ``factset.dim``
        (its weights are used in float64; float32 weights convert exactly)
    factset : the fact set to store
    seed : seeds the gate and up rows given to dead units (zero up row and
        down column), the only random choice
    options : the margin steps' budget: ``rounds`` (3), ``inner_iters``
        (100), ``joint_iters`` (3000), ``active`` (32), ``solver``
        (``L-BFGS-B`` or ``CG``); the activation is ``mlp``'s

    Returns ``(polished GatedMLP, its StorageReport)``; the report's
    certified facts include every fact ``verify_storage(mlp, factset)``
    certified.  Returns the input weights (in float64) when no step is
    accepted.
    """
    from .constructions.margin import margin_fit, margin_options
    from .verify import verify_storage

    if not isinstance(mlp, GatedMLP):
        raise InvalidInputError(f"mlp must be a factmlp.GatedMLP, got {type(mlp).__name__}")
    if not isinstance(factset, FactSet):
        raise InvalidInputError(f"factset must be a factmlp.FactSet, got {type(factset).__name__}")
    if mlp.dim != factset.dim:
        raise ShapeError(f"mlp has dimension d = {mlp.dim}, the fact set d = {factset.dim}")
    if "activation" in options or "partial" in options:
        raise InvalidInputError(
            "polish takes the activation from the MLP and never returns less than it got; "
            "options 'activation' and 'partial' do not apply"
        )
    opts = margin_options(activation=mlp.activation, **options)
    rng = check_seed(seed)
    W = {
        name: np.array(np.asarray(getattr(mlp, attr)), dtype=np.float64)
        for name, attr in (("gate", "gate_proj"), ("up", "up_proj"), ("down", "down_proj"))
    }
    K = np.asarray(factset.keys, dtype=np.float64)
    key_scale = float(np.sqrt(np.mean(np.sum(K * K, axis=1)))) or 1.0
    start = verify_storage(GatedMLP(W["gate"], W["up"], W["down"], mlp.activation), factset)
    kept = certified_set(start)
    revived = _revive(W, rng, key_scale)
    base = verify_storage(GatedMLP(W["gate"], W["up"], W["down"], mlp.activation), factset)
    if not kept <= certified_set(base):  # reviving changed g in the last bits: keep the input weights
        W = {
            name: np.array(np.asarray(getattr(mlp, attr)), dtype=np.float64)
            for name, attr in (("gate", "gate_proj"), ("up", "up_proj"), ("down", "down_proj"))
        }
        revived = 0
    margins = np.asarray(start.margins, dtype=np.float64)
    pos = margins[sorted(kept)] if kept else np.zeros(0)
    pos = pos[pos > 0]
    if pos.size:
        gamma = float(np.median(pos))
    else:  # nothing stored: the scale of the outputs against the values
        out = mlp(K)
        gamma = float(np.median(np.abs(np.asarray(out, dtype=np.float64) @ factset.values.T))) or 1.0

    current = set(kept)

    def accept(new: dict[str, np.ndarray], report: Any) -> bool:
        nonlocal current
        now = certified_set(report)
        if current <= now:
            current = now
            return True
        return False

    W, report, log = margin_fit(factset, W, opts, accept=accept, gamma=gamma)
    meta = dict(getattr(mlp, "meta", {}) or {})
    meta.update(
        {
            "polished": True,
            "polish_stored_before": int(start.stored),
            "polish_stored_after": int(report.stored),
            "polish_accepted": log["accepted"],
            "polish_rejected": log["rejected"],
            "polish_revived_units": revived,
        }
    )
    out = GatedMLP(W["gate"], W["up"], W["down"], mlp.activation, meta)
    return out, report
