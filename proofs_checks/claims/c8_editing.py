r"""C8 (editing by MLP swap): swapping in an MLP constructed for the edited fact set edits 10% of the facts
and keeps **every** unchanged fact, through the whole Transformer; fine-tuning and ROME-style edits are
scored with the same exact metric.

What C8 adds over C7 (which asks that a constructed MLP recalls its own fact set): an edit
starts from a model whose MLP already holds the old facts (certified, every fact answered), and
the claim is about the facts the edit must leave alone.  Setup as in C7 (explicit width
``h = d ceil(F/d)``).  A fraction ``FRACTION`` of the facts, the set S, gets a new random object
(:func:`factmlp.editing.choose_edits`); the keys do not change (attention and norms are frozen).

* ``swap``: ``construct`` (``encdec`` unless ``ctx.method`` overrides it) on the edited fact set
  ``(K, E, o')`` at the same width, certified by :func:`factmlp.verify.verify_storage`, put in the
  slot of a copy of the model; in both variants of C7 (no bypass; residual stream with the output
  scale of :func:`factmlp.transformer.bypass_scale`).
* baselines, on the no-bypass model, same metric: ``finetune_all`` (300 full-batch Adam steps,
  lr 1e-3, every fact in the loss), ``finetune_edited`` (only the edited facts in the loss),
  ``rome_facts`` (sequential rank-one edits of ``W_down``, covariance over the facts),
  ``rome_generic`` (covariance over random 2-token prompts).

Metric (exact counts, through the whole model's argmax): ``edited_ok`` = facts of S answered
with their new object, ``retained`` = facts outside S answered with their old object
(``retention = retained / (F - |S|)``).  The old model is checked again after all edits: the
copy-and-swap must leave the old MLP's facts untouched.

Decision rule, fixed before running: **pass iff** the old MLP is certified to store all F facts
and the old model answers all of them (both variants); the swapped-in MLP is certified to store
all F edited facts; in both variants ``edited_ok = |S|`` and ``retained = F - |S|`` (every fact,
no tolerance: one mis-stored fact fails); and the old model still answers all F old facts
afterwards.  The baselines are reported (counts and ``exact``), not in the decision.

Evidence kind: measured (exact counts at the listed sizes, one seed).  torch runs
single-threaded (see C7).  Needs torch: without it the claim fails with "C8 needs torch".
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..framework import Claim, ClaimContext, register
from ._common import DEFAULT_METHOD, profile_sizes, subseed
from .c7_recall import _needs_torch, certified_count, explicit_width, torch_threads

SIZES = {
    "quick": {"vocab": 128, "d": 32, "facts": 256, "generic_prompts": 1024},
    "full": {"vocab": 512, "d": 64, "facts": 1024, "generic_prompts": 4096},
}
FRACTION = 0.10
FINETUNE_STEPS = 300
FINETUNE_LR = 1e-3


def statement() -> str:
    return (
        r"\mathrm{verify}(g', K, E, f') = F\ \wedge\ \forall i \in S:\ \hat o_i = o'_i\ \wedge\ "
        r"\forall i \notin S:\ \hat o_i = o_i,\quad |S| = 0.1\,F,\ "
        r"\text{with and without the residual stream}"
    )


def edit_counts(model, before, after, edited) -> dict:
    """Exact scores of ``model`` (already edited): ``edited_ok``, ``retained`` and their denominators.

    ``edited_ok = #{i in S : answer_i = after.objects[i]}``, ``retained = #{i not in S : answer_i =
    before.objects[i]}`` (unchanged facts keep their old object, so ``after`` equals ``before`` there).
    """
    from factmlp.transformer import correct

    mask = np.zeros(after.n_facts, dtype=bool)
    mask[np.asarray(edited, dtype=np.int64)] = True
    ok_new = correct(model, after)
    ok_old = correct(model, before)
    out: dict[str, Any] = {
        "edited_ok": int(ok_new[mask].sum()),
        "edited": int(mask.sum()),
        "retained": int(ok_old[~mask].sum()),
        "unchanged": int((~mask).sum()),
        "lost_facts": [int(i) for i in np.flatnonzero(~mask & ~ok_old)[:20]],
    }
    out["exact"] = out["edited_ok"] == out["edited"] and out["retained"] == out["unchanged"]
    out["edit_success"] = out["edited_ok"] / out["edited"]
    out["retention"] = out["retained"] / out["unchanged"] if out["unchanged"] else float("nan")
    return out


def _swap(model, facts, after, idx, method: str, hidden: int, seed: int) -> dict:
    from factmlp.editing import swap_edit
    from factmlp.transformer import fact_keys_values

    mlp, info = swap_edit(model, after, method, hidden=hidden, seed=seed)
    fs_after = fact_keys_values(model, after)
    # the verifier sees the unscaled storage question; a positive output scale does not change the margins' signs
    cert = certified_count(mlp, fs_after)
    edited = copy.deepcopy(model)
    edited.set_mlp(mlp)
    return {
        **edit_counts(edited, facts, after, idx),
        "certified_stored": cert["stored"],
        "certified_total": cert["total"],
        "certified": cert["certified"],
        "scale": info["scale"],
        "hidden": info["hidden"],
    }


def run(ctx: ClaimContext) -> tuple[bool, dict]:
    """Old model certified, edit 10% by swap (both variants) and by the baselines, score exactly."""
    _needs_torch("C8")
    from factmlp.constructions import construct
    from factmlp.editing import choose_edits, finetune_edit, rome_edit
    from factmlp.errors import InvalidInputError
    from factmlp.transformer import OneLayerTransformer, bypass_scale, correct, fact_keys_values, make_fact_queries

    cfg = profile_sizes(ctx, SIZES)
    method = ctx.method or DEFAULT_METHOD
    seeds = {t: subseed(ctx.seed, f"C8-{t}") for t in ("model", "facts", "construct", "edits", "generic")}
    numbers: dict = {
        "method": method,
        "facts": cfg["facts"],
        "vocab": cfg["vocab"],
        "d": cfg["d"],
        "fraction": FRACTION,
    }
    with torch_threads():
        model = OneLayerTransformer(cfg["vocab"], cfg["d"], seed=seeds["model"])
        facts = make_fact_queries(cfg["vocab"], cfg["facts"], seed=seeds["facts"])
        fs = fact_keys_values(model, facts)
        ctx.record_input(fs, seeds["facts"])
        ctx.seeds.extend([seeds["model"], seeds["construct"], seeds["edits"], seeds["generic"]])
        hidden = explicit_width(fs.n_facts, fs.dim)
        c = construct(fs, method, hidden=hidden, seed=seeds["construct"])
        old_cert = certified_count(c.mlp, fs)
        model.set_mlp(c.mlp)
        bypass = OneLayerTransformer(cfg["vocab"], cfg["d"], seed=seeds["model"], residual_mlp=True)
        try:
            bypass.set_mlp(c.mlp, bypass_scale(bypass, c.mlp, facts))
            bypass_ok = True
        except InvalidInputError as exc:
            bypass_ok, numbers["bypass_error"] = False, f"{type(exc).__name__}: {exc}"[:300]
        F = fs.n_facts
        old_answered = int(correct(model, facts).sum())
        old_bypass_answered = int(correct(bypass, facts).sum()) if bypass_ok else 0
        after, idx = choose_edits(facts, FRACTION, seed=seeds["edits"])
        generic = np.random.default_rng(seeds["generic"]).integers(0, cfg["vocab"], size=(cfg["generic_prompts"], 2))
        results = {"swap": _swap(model, facts, after, idx, method, hidden, seeds["construct"])}
        if bypass_ok:
            results["swap_bypass"] = _swap(bypass, facts, after, idx, method, hidden, seeds["construct"])
        baselines = {
            "finetune_all": lambda: finetune_edit(
                model, after, idx, steps=FINETUNE_STEPS, lr=FINETUNE_LR, loss_on="all"
            ),
            "finetune_edited": lambda: finetune_edit(
                model, after, idx, steps=FINETUNE_STEPS, lr=FINETUNE_LR, loss_on="edited"
            ),
            "rome_facts": lambda: rome_edit(model, after, idx),
            "rome_generic": lambda: rome_edit(model, after, idx, covariance_prompts=generic),
        }
        for name, edit in baselines.items():
            mlp, _info = edit()
            edited = copy.deepcopy(model)
            edited.set_mlp(mlp)
            results[name] = edit_counts(edited, facts, after, idx)
        old_after = int(correct(model, facts).sum())
    swaps = [results[k] for k in ("swap", "swap_bypass") if k in results]
    passed = (
        old_cert["certified"]
        and old_answered == F
        and bypass_ok
        and old_bypass_answered == F
        and len(swaps) == 2
        and all(s["certified"] and s["exact"] for s in swaps)
        and old_after == F
    )
    numbers.update(
        {
            "headline": ["swap_exact", "swap_retained", "swap_bypass_exact", "finetune_all_retained"],
            "edited": int(idx.size),
            "unchanged": F - int(idx.size),
            "hidden": hidden,
            "old_certified_stored": old_cert["stored"],
            "old_answered": old_answered,
            "old_bypass_answered": old_bypass_answered,
            "old_answered_after_edits": old_after,
            "finetune_steps": FINETUNE_STEPS,
            "finetune_lr": FINETUNE_LR,
            "evidence": "measured: exact counts through the whole model at the listed sizes, one seed",
        }
    )
    for name, r in results.items():
        for k, v in r.items():
            numbers[f"{name}_{k}"] = v
    return passed, numbers


CLAIM = register(
    Claim(
        id="C8",
        title="Editing 10% of facts by swapping in a newly constructed MLP keeps every unchanged fact",
        statement=statement,
        run=run,
        doc=__doc__ or "",
    )
)
