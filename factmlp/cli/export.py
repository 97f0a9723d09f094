"""``factmlp export``: write a gated MLP's weights as a Hugging Face ``LlamaMLP`` block."""

from __future__ import annotations

import click

from ._common import check_out_dir, dumps, handle_errors, json_option


@click.command("export")
@click.argument("weights", type=click.Path(dir_okay=False))
@click.argument("out_dir", type=click.Path(dir_okay=True, file_okay=False))
@click.option(
    "--to",
    "target",
    type=click.Choice(["hf"]),
    required=True,
    help="Target format: hf = transformers' LlamaMLP (model.safetensors + config.json).",
)
@click.option(
    "--dtype",
    type=click.Choice(["same", "float32", "float64"]),
    default="same",
    show_default=True,
    help="Tensor dtype in the exported file.",
)
@json_option
@handle_errors
def command(weights, out_dir, target, dtype, as_json):
    """Export WEIGHTS (factmlp safetensors) to OUT_DIR in the format given by --to.

    Writes OUT_DIR/model.safetensors (gate_proj.weight, up_proj.weight,
    down_proj.weight) and OUT_DIR/config.json (hidden_size, intermediate_size,
    hidden_act; factmlp's identity activation is written as "linear").
    Exit 0 on success, 2 on bad input.
    """
    import os

    from ..export import export_hf
    from ..mlp import GatedMLP

    check_out_dir(out_dir)
    mlp = GatedMLP.load(weights)
    config = export_hf(mlp, out_dir, dtype=None if dtype == "same" else dtype)
    out = {
        "format": target,
        "out_dir": os.path.abspath(out_dir),
        "files": [os.path.join(out_dir, "model.safetensors"), os.path.join(out_dir, "config.json")],
        "config": config,
    }
    if as_json:
        click.echo(dumps(out))
    else:
        click.echo(
            f"wrote {out['files'][0]} and {out['files'][1]} "
            f"(hidden_size={config['hidden_size']}, intermediate_size={config['intermediate_size']}, "
            f"hidden_act={config['hidden_act']})"
        )
