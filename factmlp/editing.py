"""Editing facts in the 1-layer Transformer: MLP swap, fine-tuning, and a ROME-style rank-one edit.

Setting: the frozen model of :mod:`factmlp.transformer` answers facts
``(prompt_i -> o_i)``; an edit replaces the objects of a set ``S`` of facts by
new ones ``o'_i`` (``o'_i != o_i``).  Attention and the norms are frozen, so
the MLP inputs (keys ``k_i``) do not change: only the targets do.

* **swap** (:func:`swap_edit`): construct a new MLP for the edited fact set
  ``(K, E, o')`` and put it in the slot.  Every fact certified stored by the
  new MLP is answered correctly (no bypass), edited or not.
* **fine-tune** (:func:`finetune_edit`): Adam on the MLP's three matrices,
  minimising the model's cross-entropy ``-log softmax(out_i E^T)[o'_i]`` over
  all facts (``loss_on="all"``: edited ones with new objects, the others with
  their old ones) or only the edited facts (``loss_on="edited"``).
* **ROME-style** (:func:`rome_edit`): for each edited fact in turn, a
  rank-one update of ``W_down`` that maps the fact's hidden activation
  ``k*`` to a target output ``v*`` while changing the outputs on other
  hidden activations as little as possible under the covariance ``C``.

An edit is scored by :func:`evaluate_edit`: edit success = fraction of
edited facts answered with the new object; retention = fraction of unedited
facts still answered with their object.

Needs torch (through :mod:`factmlp.transformer`).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InvalidInputError
from .mlp import GatedMLP
from .torch_mlp import from_torch, to_torch
from .transformer import (
    FactQueries,
    OneLayerTransformer,
    _check_model_facts,
    bypass_scale,
    correct,
    fact_keys_values,
    torch,
)
from .validation import check_seed

__all__ = [
    "EditOutcome",
    "choose_edits",
    "evaluate_edit",
    "swap_edit",
    "finetune_edit",
    "rome_edit",
    "run_edit",
    "EDIT_METHODS",
]

EDIT_METHODS = ("swap", "finetune", "rome")


@dataclass
class EditOutcome:
    """Result of one edit on a copy of the model.

    ``edit_success``: fraction of the edited facts answered with their new
    object; ``retention``: fraction of the unedited facts answered with their
    (unchanged) object; ``recall_before``: the unedited model's recall of
    the old facts; ``seconds``: wall time of the edit itself (building or
    training the new MLP), not of the evaluation.
    """

    method: str
    n_edited: int
    n_facts: int
    edit_success: float
    retention: float
    recall_before: float
    seconds: float
    info: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "n_edited": self.n_edited,
            "n_facts": self.n_facts,
            "edit_success": self.edit_success,
            "retention": self.retention,
            "recall_before": self.recall_before,
            "seconds": self.seconds,
            **self.info,
        }


def choose_edits(facts: FactQueries, fraction: float, seed: Any = 0) -> tuple[FactQueries, np.ndarray]:
    """Pick ``max(1, round(fraction * F))`` facts at random and give each a new random object.

    New objects are uniform over the vocabulary minus the old object.
    Returns ``(edited facts, sorted indices of the edited facts)``.
    """
    if not isinstance(facts, FactQueries):
        raise InvalidInputError(f"facts must be FactQueries, got {type(facts).__name__}")
    f = float(fraction)
    if not (0.0 < f <= 1.0):
        raise InvalidInputError(f"fraction must lie in (0, 1], got {fraction!r}")
    rng = check_seed(seed)
    n = max(1, int(round(f * facts.n_facts)))
    idx = np.sort(rng.choice(facts.n_facts, size=n, replace=False))
    objects = facts.objects.copy()
    shift = rng.integers(1, facts.n_vocab, size=n)  # o' = o + shift mod n, shift in [1, n): never o
    objects[idx] = (objects[idx] + shift) % facts.n_vocab
    return facts.with_objects(objects), idx


def _check_edit(model: Any, before: FactQueries, after: FactQueries, edited: Any) -> np.ndarray:
    _check_model_facts(model, before)
    _check_model_facts(model, after)
    if not np.array_equal(before.prompts, after.prompts):
        raise InvalidInputError("facts before and after the edit must have the same prompts")
    idx = np.unique(np.asarray(edited, dtype=np.int64))
    if idx.size == 0 or idx[0] < 0 or idx[-1] >= before.n_facts:
        raise InvalidInputError(f"edited indices must be a non-empty subset of [0, {before.n_facts})")
    changed = np.flatnonzero(before.objects != after.objects)
    if not np.isin(changed, idx).all():
        raise InvalidInputError("facts outside the edited indices changed their objects")
    return idx


def evaluate_edit(model: OneLayerTransformer, after: FactQueries, edited: Any) -> dict:
    """``{"edit_success": mean_{i in S} ok_i, "retention": mean_{i not in S} ok_i}`` with ``ok_i`` = the
    model answers ``after.objects[i]`` (NaN retention when every fact was edited)."""
    ok = correct(model, after)
    mask = np.zeros(after.n_facts, dtype=bool)
    mask[np.asarray(edited, dtype=np.int64)] = True
    ret = float(ok[~mask].mean()) if (~mask).any() else float("nan")
    return {"edit_success": float(ok[mask].mean()), "retention": ret}


# ---- swap ---------------------------------------------------------------------------
def swap_edit(
    model: OneLayerTransformer,
    after: FactQueries,
    method: str = "encdec",
    *,
    hidden: int | None = None,
    seed: Any = 0,
    **options: Any,
) -> tuple[GatedMLP, dict]:
    """A new MLP constructed for the edited fact set ``fact_keys_values(model, after)``.

    With bypass the MLP is returned already scaled by :func:`bypass_scale`.
    Returns ``(mlp, info)`` with the construction's ``hidden``, ``params`` and ``scale``.
    """
    from .constructions import construct

    fs = fact_keys_values(model, after)
    c = construct(fs, method, hidden=hidden, seed=seed, **options)
    mlp, scale = c.mlp, 1.0
    if model.residual_mlp:
        scale = bypass_scale(model, mlp, after)
        mlp = GatedMLP(mlp.gate_proj, mlp.up_proj, mlp.down_proj * scale, mlp.activation, dict(mlp.meta))
    return mlp, {"construction": method, "hidden": c.hidden, "params": c.params, "scale": scale}


# ---- fine-tuning ------------------------------------------------------------------------
def finetune_edit(
    model: OneLayerTransformer,
    after: FactQueries,
    edited: Any,
    *,
    steps: int = 300,
    lr: float = 1e-3,
    loss_on: str = "all",
) -> tuple[GatedMLP, dict]:
    """Fine-tune the model's current MLP with full-batch Adam on the edited facts.

    Loss: mean over the facts in the loss of ``-log softmax(out_i E^T)[o'_i]``,
    ``out_i = g(k_i)`` (``y_i + g(k_i)`` with bypass); ``loss_on="all"``
    puts every fact in the loss (edited ones with their new objects), ``"edited"``
    only the edited facts.  Attention and norms are frozen, so ``k_i`` and
    ``y_i`` are computed once; this equals back-propagating through the model.
    Full batch, no randomness; ``steps`` Adam steps at learning rate ``lr``.
    """
    if loss_on not in ("all", "edited"):
        raise InvalidInputError(f"loss_on must be 'all' or 'edited', got {loss_on!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise InvalidInputError(f"steps must be an integer >= 0, got {steps!r}")
    _check_model_facts(model, after)
    idx = np.arange(after.n_facts) if loss_on == "all" else np.unique(np.asarray(edited, dtype=np.int64))
    with torch.no_grad():
        y = model.residual_stream(after.prompts)[:, -1][idx]
        k = model._rms(y, model.mlp_norm_gain)
    targets = torch.from_numpy(after.objects[idx])
    module = to_torch(model.get_mlp()).to(model.tdtype)
    opt = torch.optim.Adam(module.parameters(), lr=float(lr))
    emb = model.embed
    t0 = time.perf_counter()
    loss = float("nan")
    for _ in range(int(steps)):
        out = module(k)
        if model.residual_mlp:
            out = y + out
        loss_t = torch.nn.functional.cross_entropy(out @ emb.T, targets)
        opt.zero_grad(set_to_none=True)
        loss_t.backward()
        opt.step()
        loss = float(loss_t.detach())
    seconds = time.perf_counter() - t0
    return from_torch(module), {
        "steps": int(steps),
        "lr": float(lr),
        "loss_on": loss_on,
        "final_loss": loss,
        "train_seconds": seconds,
    }


# ---- ROME-style rank-one edit ---------------------------------------------------------------
def _pinv_psd(C: np.ndarray, rcond: float) -> np.ndarray:
    w, Q = np.linalg.eigh(C)
    keep = w > rcond * max(float(w.max()), 0.0)
    inv = np.zeros_like(w)
    inv[keep] = 1.0 / w[keep]
    return (Q * inv) @ Q.T


def _rome_target(
    model: OneLayerTransformer,
    y: torch.Tensor,
    z0: torch.Tensor,
    obj: int,
    steps: int,
    lr: float,
    weight_decay: float,
    clamp: float,
) -> torch.Tensor:
    """v*: the MLP output that makes the model answer ``obj``, found as in ROME by gradient steps.

    Minimise ``-log softmax(out E^T)[obj] + weight_decay * ||delta||^2`` over
    ``z = z0 + s delta`` (``s = max(||z0||, 1e-12)``), ``out = z`` (``y + z``
    with bypass), with ``||delta|| <= clamp`` enforced after every Adam step.
    """
    s = max(float(z0.norm()), 1e-12)
    delta = torch.zeros_like(z0, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=lr)
    target = torch.tensor([obj])
    for _ in range(steps):
        z = z0 + s * delta
        out = y + z if model.residual_mlp else z
        loss = torch.nn.functional.cross_entropy((out @ model.embed.T)[None], target)
        loss = loss + weight_decay * delta.pow(2).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            n = float(delta.norm())
            if n > clamp:
                delta.mul_(clamp / n)
    return (z0 + s * delta).detach()


def rome_edit(
    model: OneLayerTransformer,
    after: FactQueries,
    edited: Any,
    *,
    target_steps: int = 50,
    target_lr: float = 0.1,
    weight_decay: float = 1e-3,
    clamp: float = 4.0,
    rcond: float = 1e-10,
    covariance_prompts: Any = None,
) -> tuple[GatedMLP, dict]:
    """Sequential rank-one edits of ``W_down`` in the style of ROME (Meng et al. 2022), one per edited fact.

    Hidden activations: ``a_i = act(W_gate k_i) * (W_up k_i)`` (h,) at the
    **last** query position (in a 1-layer model only the MLP at the last
    position reaches the logits, so that is where the fact's key lives; ROME's
    "subject's last token" plays this role in deeper models).  Covariance
    ``C = (1/F) sum_i a_i a_i^T`` (h x h, uncentered) over all facts (or over
    the last positions of ``covariance_prompts`` (B, T) when given: ROME
    estimates C on generic text, not on the edited facts); ``C^+``
    is its pseudo-inverse (eigenvalues below ``rcond * max`` dropped), which
    equals ``C^-1`` when C is invertible (h <= F, generic).  For each edited
    fact in index order: ``k* = a_i``, ``v*`` from :func:`_rome_target`
    (starting at the current output ``W_down k*``), ``c = C^+ k*`` and

        W_down <- W_down + (v* - W_down k*) c^T / (c^T k*),

    which maps ``k*`` exactly to ``v*``.  Gate and up weights are unchanged.
    """
    _check_model_facts(model, after)
    idx = np.unique(np.asarray(edited, dtype=np.int64))
    mlp = model.get_mlp().astype(np.float64)
    fs = fact_keys_values(model, after)
    t0 = time.perf_counter()
    A = np.asarray(mlp.hidden_activations(fs.keys), dtype=np.float64)  # (F, h)
    if covariance_prompts is None:
        B = A
    else:
        with torch.no_grad():
            kc = model.mlp_inputs(covariance_prompts)[:, -1].cpu().numpy().astype(np.float64)
        B = np.asarray(mlp.hidden_activations(kc), dtype=np.float64)
    C = B.T @ B / B.shape[0]
    Cp = _pinv_psd(C, rcond)
    W = np.array(mlp.down_proj, dtype=np.float64)  # (d, h)
    with torch.no_grad():
        ys = model.residual_stream(after.prompts)[:, -1].to(torch.float64)
    model64 = model if model.tdtype == torch.float64 else copy.deepcopy(model).double()
    reached = 0
    for i in idx:
        k_star = A[i]
        z0 = torch.from_numpy(W @ k_star)
        v_star = _rome_target(
            model64, ys[i], z0, int(after.objects[i]), target_steps, target_lr, weight_decay, clamp
        ).numpy()
        out = v_star + (ys[i].numpy() if model.residual_mlp else 0.0)
        reached += int(np.argmax(model.embedding_matrix() @ out) == after.objects[i])
        c = Cp @ k_star
        denom = float(c @ k_star)
        if not (math.isfinite(denom) and abs(denom) > 0):
            continue  # k* in C's null space: ROME's update is undefined; skip the edit
        W += np.outer(v_star - W @ k_star, c) / denom
    seconds = time.perf_counter() - t0
    new = GatedMLP(mlp.gate_proj, mlp.up_proj, W, mlp.activation, dict(mlp.meta))
    return new, {
        "targets_reached": reached,
        "covariance_rank": int(np.linalg.matrix_rank(C)),
        "covariance": "facts" if covariance_prompts is None else f"{B.shape[0]} prompts",
        "hidden": mlp.hidden,
        "edit_seconds": seconds,
    }


# ---- one call per method -----------------------------------------------------------------------
def run_edit(
    model: OneLayerTransformer, before: FactQueries, after: FactQueries, edited: Any, how: str, **kwargs: Any
) -> EditOutcome:
    """Apply edit ``how`` (``swap``, ``finetune`` or ``rome``) to a copy of ``model`` and score it.

    ``model`` must hold the MLP that answers ``before``; it is not modified.
    ``kwargs`` go to the edit function.  ``seconds`` times the edit only.
    """
    if how not in EDIT_METHODS:
        raise InvalidInputError(f"unknown edit method {how!r}; expected one of {EDIT_METHODS}")
    idx = _check_edit(model, before, after, edited)
    recall_before = float(correct(model, before).mean())
    t0 = time.perf_counter()
    if how == "swap":
        mlp, info = swap_edit(model, after, **kwargs)
    elif how == "finetune":
        mlp, info = finetune_edit(model, after, idx, **kwargs)
    else:
        mlp, info = rome_edit(model, after, idx, **kwargs)
    seconds = time.perf_counter() - t0
    edited_model = copy.deepcopy(model)
    edited_model.set_mlp(mlp)
    scores = evaluate_edit(edited_model, after, idx)
    return EditOutcome(
        how, int(idx.size), after.n_facts, scores["edit_success"], scores["retention"], recall_before, seconds, info
    )
