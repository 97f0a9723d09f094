r"""C8 (editing by MLP swap): replacing the MLP by one constructed for the edited facts edits 10% of facts
with edit success and retention >= 0.99, compared with fine-tuning and a ROME-style rank-one edit.

Setup as in C7 (no bypass).  10% of the facts get a new random object
(:func:`factmlp.editing.choose_edits`).  Methods, each on a copy of the same
model holding the constructed MLP:

* ``swap``: ``construct`` (``encdec`` unless ``ctx.method`` overrides it) on
  the edited fact set, swapped into the slot;
* ``finetune_all``: 300 full-batch Adam steps (lr 1e-3) on the MLP, every
  fact in the loss (edited ones with the new object);
* ``finetune_edited``: the same with only the edited facts in the loss;
* ``rome_facts``: sequential rank-one edits of ``W_down`` with the
  covariance C of hidden activations over the facts;
* ``rome_generic``: the same with C over random 2-token prompts (ROME
  estimates C on generic text).

Decision rule: **pass iff the swap's edit success >= 0.99 and retention >=
0.99**; the baselines' numbers are reported for comparison only.

Needs torch: without it the claim fails with the error "C8 needs torch".
"""

from __future__ import annotations

from ..framework import Claim, ClaimContext, register
from ._common import DEFAULT_METHOD, profile_sizes, subseed
from .c7_recall import _needs_torch

SIZES = {
    "quick": {"vocab": 128, "d": 32, "facts": 256, "generic_prompts": 1024},
    "full": {"vocab": 512, "d": 64, "facts": 1024, "generic_prompts": 4096},
}
FRACTION = 0.10
THRESHOLD = 0.99


def statement() -> str:
    return (r"\mathrm{success} = \frac{1}{|S|}\sum_{i \in S} \mathbb{1}[\hat o_i = o'_i] \ge 0.99,\quad "
            r"\mathrm{retention} = \frac{1}{F - |S|}\sum_{i \notin S} \mathbb{1}[\hat o_i = o_i] \ge 0.99,"
            r"\quad |S| = 0.1\,F")


def run(ctx: ClaimContext) -> tuple[bool, dict]:
    """Construct, edit 10% with each method, score edit success and retention."""
    _needs_torch("C8")
    import numpy as np

    from factmlp.constructions import construct
    from factmlp.editing import choose_edits, run_edit
    from factmlp.transformer import OneLayerTransformer, fact_keys_values, make_fact_queries, recall

    cfg = profile_sizes(ctx, SIZES)
    method = ctx.method or DEFAULT_METHOD
    seeds = {t: subseed(ctx.seed, f"C8-{t}") for t in ("model", "facts", "construct", "edits", "generic")}
    model = OneLayerTransformer(cfg["vocab"], cfg["d"], seed=seeds["model"])
    facts = make_fact_queries(cfg["vocab"], cfg["facts"], seed=seeds["facts"])
    fs = fact_keys_values(model, facts)
    ctx.record_input(fs, seeds["facts"])
    ctx.seeds.extend([seeds["model"], seeds["construct"], seeds["edits"], seeds["generic"]])
    c = construct(fs, method, seed=seeds["construct"])
    model.set_mlp(c.mlp)
    before = recall(model, facts)
    after, idx = choose_edits(facts, FRACTION, seed=seeds["edits"])
    generic = np.random.default_rng(seeds["generic"]).integers(0, cfg["vocab"], size=(cfg["generic_prompts"], 2))
    runs = {
        "swap": ("swap", {"method": method, "seed": seeds["construct"]}),
        "finetune_all": ("finetune", {"loss_on": "all"}),
        "finetune_edited": ("finetune", {"loss_on": "edited"}),
        "rome_facts": ("rome", {}),
        "rome_generic": ("rome", {"covariance_prompts": generic}),
    }
    results = {}
    for name, (how, kw) in runs.items():
        out = run_edit(model, facts, after, idx, how, **kw)
        results[name] = {"edit_success": out.edit_success, "retention": out.retention, "seconds": out.seconds}
    swap = results["swap"]
    numbers = {
        "headline": ["swap_edit_success", "swap_retention", "rome_generic_edit_success", "finetune_all_edit_success"],
        "method": method, "facts": cfg["facts"], "vocab": cfg["vocab"], "d": cfg["d"], "edited": int(idx.size),
        "fraction": FRACTION, "recall_before": before, "hidden": c.hidden, "threshold": THRESHOLD,
    }
    for name, r in results.items():
        for k, v in r.items():
            numbers[f"{name}_{k}"] = v
    return swap["edit_success"] >= THRESHOLD and swap["retention"] >= THRESHOLD, numbers


CLAIM = register(Claim(
    id="C8",
    title="Editing 10% of facts by swapping in a newly constructed MLP",
    statement=statement,
    run=run,
    doc=__doc__ or "",
))
