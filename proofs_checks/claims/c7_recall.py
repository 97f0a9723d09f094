r"""C7 (recall in a Transformer): a constructed MLP in the slot of a frozen 1-layer Transformer recalls > 99% of facts.

Model: :class:`factmlp.transformer.OneLayerTransformer` (tied embeddings E,
random frozen causal single-head attention, frozen pre-MLP RMSNorm, **no
residual bypass** around the MLP: ``logits = g(RMS(y_T)) E^T``).  Facts are
random queries ``(subject, relation) -> object`` over the whole vocabulary;
the MLP is ``construct(fact_keys_values(model, facts), method)`` at the
method's default width (``encdec`` unless ``ctx.method`` overrides it).

Decision rule: **pass iff recall > 0.99**, recall being the fraction of
facts whose argmax over the vocabulary at the last position is the object.
Also reported (not in the decision): the certified storage count of the MLP
on the fact set (when :mod:`factmlp.verify` is available) and the recall of
the bypass variant with the MLP's output scaled by
:func:`factmlp.transformer.bypass_scale` and unscaled.

Needs torch: without it the claim fails with the error "C7 needs torch".
"""

from __future__ import annotations

from ..framework import Claim, ClaimContext, register
from ._common import DEFAULT_METHOD, profile_sizes, subseed

SIZES = {
    "quick": {"vocab": 256, "d": 32, "facts": 512},
    "full": {"vocab": 1024, "d": 64, "facts": 2048},
}
THRESHOLD = 0.99


def statement() -> str:
    return (r"\frac{1}{F}\sum_{i=1}^{F} \mathbb{1}\left[\arg\max_{o} \left(g(\mathrm{RMS}(y_i)) E^\top\right)_o"
            r" = o_i\right] > 0.99")


def _needs_torch(claim: str) -> None:
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(f"{claim} needs torch (pip install 'factmlp[torch]'): {exc}") from exc


def run(ctx: ClaimContext) -> tuple[bool, dict]:
    """Build the model and facts, construct the MLP, plug it in, measure recall."""
    _needs_torch("C7")
    from factmlp.constructions import construct
    from factmlp.transformer import (
        OneLayerTransformer, bypass_scale, fact_keys_values, make_fact_queries, recall,
    )

    cfg = profile_sizes(ctx, SIZES)
    method = ctx.method or DEFAULT_METHOD
    model_seed, facts_seed, c_seed = (subseed(ctx.seed, t) for t in ("C7-model", "C7-facts", "C7-construct"))
    model = OneLayerTransformer(cfg["vocab"], cfg["d"], seed=model_seed)
    facts = make_fact_queries(cfg["vocab"], cfg["facts"], seed=facts_seed)
    fs = fact_keys_values(model, facts)
    ctx.record_input(fs, facts_seed)
    ctx.seeds.extend([model_seed, c_seed])
    c = construct(fs, method, seed=c_seed)
    model.set_mlp(c.mlp)
    r = recall(model, facts)
    numbers = {
        "headline": ["recall", "method", "facts", "params"],
        "recall": r, "threshold": THRESHOLD, "method": method, "facts": cfg["facts"], "vocab": cfg["vocab"],
        "d": cfg["d"], "hidden": c.hidden, "params": c.params, "construct_seconds": c.seconds,
    }
    try:
        from factmlp.verify import verify_storage
    except ImportError:
        numbers["certified_stored"] = None
    else:
        rep = verify_storage(c.mlp, fs)
        numbers["certified_stored"] = int(rep.stored)
    bypass = OneLayerTransformer(cfg["vocab"], cfg["d"], seed=model_seed, residual_mlp=True)
    bypass.set_mlp(c.mlp)
    numbers["bypass_recall_unscaled"] = recall(bypass, facts)
    try:
        scale = bypass_scale(bypass, c.mlp, facts)
        bypass.set_mlp(c.mlp, scale)
        numbers["bypass_scale"] = scale
        numbers["bypass_recall_scaled"] = recall(bypass, facts)
    except Exception as exc:  # the MLP does not store every fact: no scale exists
        numbers["bypass_scale"] = None
        numbers["bypass_recall_scaled"] = None
        numbers["bypass_error"] = f"{type(exc).__name__}: {exc}"[:300]
    return r > THRESHOLD, numbers


CLAIM = register(Claim(
    id="C7",
    title="A constructed MLP in a 1-layer Transformer recalls > 99% of facts",
    statement=statement,
    run=run,
    doc=__doc__ or "",
))
