"""``factmlp transformer-demo``: a constructed MLP inside a frozen 1-layer Transformer, end to end on CPU.

Builds random fact queries, the frozen model (no bypass), the fact set of
MLP inputs, constructs an MLP, plugs it in, measures recall, then edits 10%
of the facts by swapping in a newly constructed MLP and compares with a
fine-tune and a ROME-style rank-one edit.  Exit 0 when recall > 0.99 and
the swap's edit success and retention are >= 0.99, 1 otherwise, 2 on bad
input (including missing torch).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from ._common import EXIT_NEGATIVE, dumps, handle_errors, json_option, require_memory


@click.command("transformer-demo")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--vocab", type=click.IntRange(min=16), default=128, show_default=True, help="Vocabulary size n.")
@click.option("--d", "d", type=click.IntRange(min=4), default=32, show_default=True, help="Model width d.")
@click.option("--facts", type=click.IntRange(min=2), default=256, show_default=True, help="Number of facts F.")
@click.option("--method", default="encdec", show_default=True, help="Construction for the MLP slot.")
@click.option("--edit-fraction", type=click.FloatRange(min=0, max=1, min_open=True), default=0.1, show_default=True)
@json_option
@handle_errors
def command(seed, vocab, d, facts, method, edit_fraction, as_json):
    """Facts -> construct -> plug into a 1-layer Transformer -> recall -> edit by MLP swap."""
    require_memory((2 * vocab + 2 * facts) * d * 8, f"--vocab {vocab} --facts {facts} --d {d}")
    from ..constructions import construct
    from ..editing import choose_edits, run_edit
    from ..transformer import OneLayerTransformer, fact_keys_values, make_fact_queries, recall

    t0 = time.perf_counter()
    model = OneLayerTransformer(vocab, d, seed=seed)
    fq = make_fact_queries(vocab, facts, seed=seed + 1)
    fs = fact_keys_values(model, fq)
    c = construct(fs, method, seed=seed)
    model.set_mlp(c.mlp)
    r = recall(model, fq)
    out: dict = {
        "seed": seed,
        "vocab": vocab,
        "d": d,
        "facts": facts,
        "method": method,
        "hidden": c.hidden,
        "params": c.params,
        "construct_seconds": c.seconds,
        "recall": r,
        "edit_fraction": edit_fraction,
    }
    after, idx = choose_edits(fq, edit_fraction, seed=seed + 2)
    out["edited"] = int(idx.size)
    edits: list[dict[str, Any]] = []
    for label, how, kw in (
        ("swap", "swap", {"method": method, "seed": seed}),
        ("fine-tune (all facts in loss)", "finetune", {"loss_on": "all"}),
        ("ROME-style rank-one", "rome", {}),
    ):
        o = run_edit(model, fq, after, idx, how, **kw)
        edits.append({"method": label, "edit_success": o.edit_success, "retention": o.retention, "seconds": o.seconds})
    out["edits"] = edits
    out["seconds"] = time.perf_counter() - t0
    ok = r > 0.99 and edits[0]["edit_success"] >= 0.99 and edits[0]["retention"] >= 0.99
    out["ok"] = ok
    if as_json:
        click.echo(dumps(out))
    else:
        _print(out)
    if not ok:
        sys.exit(EXIT_NEGATIVE)


def _print(out: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    t = Table(title="constructed MLP in a 1-layer Transformer (no bypass)")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    for key in ("vocab", "d", "facts", "method", "hidden", "params", "construct_seconds", "recall"):
        v = out[key]
        t.add_row(key, f"{v:.4g}" if isinstance(v, float) else str(v))
    console.print(t)
    e = Table(title=f"editing {out['edited']} facts ({out['edit_fraction']:.0%})")
    for col in ("method", "edit success", "retention", "seconds"):
        e.add_column(col, justify="left" if col == "method" else "right")
    for row in out["edits"]:
        e.add_row(row["method"], f"{row['edit_success']:.3f}", f"{row['retention']:.3f}", f"{row['seconds']:.2f}")
    console.print(e)
    console.print(f"total {out['seconds']:.1f} s")
