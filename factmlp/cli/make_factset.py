"""``factmlp make-factset``: write a random fact set to ``.npz``."""

from __future__ import annotations

import click

from ..families import FAMILIES, make_factset
from ._common import EXIT_OK, FiniteFloat, check_out_file, dumps, handle_errors, json_option, require_memory


@click.command("make-factset")
@click.option("--family", type=click.Choice(FAMILIES), default="spherical", show_default=True)
@click.option("--d", "d", type=click.IntRange(min=1), default=64, show_default=True, help="Embedding dimension d.")
@click.option("--facts", type=click.IntRange(min=1), default=1024, show_default=True, help="Number of facts F.")
@click.option("--values", type=click.IntRange(min=2), default=None, help="Number of values N [default: F].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--beta", type=FiniteFloat(), default=1.5, show_default=True, help="Spike strength (family 'spiked').")
@click.option("--condition", type=FiniteFloat(min=1.0), default=10.0, show_default=True, help="Condition number (family 'condition').")
@click.option("--float32", "float32", is_flag=True, help="Store keys and values as float32.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True, help="Output .npz path.")
@json_option
@handle_errors
def command(family, d, facts, values, seed, beta, condition, float32, out, as_json):
    """Make a random fact set (keys, values, mapping) and save it as .npz."""
    import numpy as np

    check_out_file(out)
    itemsize = 4 if float32 else 8
    require_memory((facts + (values or facts)) * d * itemsize, f"--facts {facts} --values {values or facts} --d {d}")
    fs = make_factset(
        family, d, facts, values, seed, beta=beta, condition=condition,
        dtype=np.float32 if float32 else np.float64,
    )
    fs.save(out)
    info = {
        "path": out, "family": family, "d": fs.dim, "facts": fs.n_facts,
        "values": fs.n_values, "seed": seed, "sha256": fs.fingerprint(),
    }
    if as_json:
        click.echo(dumps(info))
    else:
        click.echo(f"wrote {out}: F={fs.n_facts} facts, N={fs.n_values} values, d={fs.dim}, family={family}, seed={seed}")
    return EXIT_OK
