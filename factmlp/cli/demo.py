"""``factmlp demo``: the built-in default job, end to end on one small fact set.

Makes a default fact set, computes its exact decodability with certificates,
checks feasibility, constructs an encoder-decoder MLP and certifies which
facts it stores.  Exit 0 when every step succeeds and all facts are stored.
"""

from __future__ import annotations

import sys
import time

import click

from ..families import FAMILIES
from ._common import EXIT_NEGATIVE, dumps, handle_errors, json_option, require_memory


@click.command("demo")
@click.option("--family", type=click.Choice(FAMILIES), default="spherical", show_default=True)
@click.option("--d", "d", type=click.IntRange(min=2), default=32, show_default=True)
@click.option("--facts", type=click.IntRange(min=2), default=512, show_default=True)
@click.option("--values", type=click.IntRange(min=2), default=None, help="N [default: F].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--method", default="encdec", show_default=True, help="Construction to run.")
@json_option
@handle_errors
def command(family, d, facts, values, seed, method, as_json):
    """Run the default job: fact set -> decodability -> construction -> certified check."""
    import numpy as np

    from ..decodability import decodability
    from ..families import make_factset
    from ..feasibility import check_feasible

    out: dict = {"family": family, "d": d, "facts": facts, "values": values or facts, "seed": seed}
    require_memory((facts + (values or facts)) * d * 8, f"--facts {facts} --values {values or facts} --d {d}")
    t0 = time.perf_counter()
    fs = make_factset(family, d, facts, values, seed)
    res = decodability(fs.values, fs.used_values)
    out["rho"] = res.rho
    out["rho_certified_lower"] = float(np.nanmin(res.lower[fs.used_values]))
    out["rho_certified_upper"] = float(np.nanmin(res.upper[fs.used_values]))
    out["decodability_seconds"] = time.perf_counter() - t0
    check_feasible(fs)
    out["feasible"] = True
    from ..constructions import construct
    from ..verify import verify_storage

    c = construct(fs, method, seed=seed)
    rep = verify_storage(c.mlp, fs)
    out.update(
        method=method,
        hidden=c.hidden,
        params=c.params,
        params_factored=c.params_factored,
        params_bound=c.param_bound,
        construct_seconds=c.seconds,
        stored=rep.stored,
        total=rep.total,
        certified=rep.certified,
        min_margin=rep.min_margin,
        counting_bound_params_fp32=float(fs.n_facts * np.log2(fs.n_values) / 32.0),
    )
    stored_all = rep.certified
    if as_json:
        click.echo(dumps(out))
    else:
        _print_summary(out)
    if not stored_all:
        sys.exit(EXIT_NEGATIVE)


def _print_summary(out: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="factmlp demo", show_header=True)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    labels = {
        "family": "embedding family",
        "d": "dimension d",
        "facts": "facts F",
        "values": "values N",
        "seed": "seed",
        "rho": "decodability rho(V)",
        "rho_certified_lower": "  certified lower bound",
        "rho_certified_upper": "  certified upper bound",
        "decodability_seconds": "  solver seconds",
        "feasible": "feasible",
        "method": "construction",
        "hidden": "hidden width h",
        "params": "parameters (folded, 3dh)",
        "params_factored": "parameters (factored)",
        "params_bound": "theory's parameter bound",
        "counting_bound_params_fp32": "counting bound F log2 N / 32",
        "construct_seconds": "construction seconds",
        "stored": "facts certified stored",
        "total": "facts in all",
        "min_margin": "minimum margin",
        "certified": "all facts certified",
    }
    for key, label in labels.items():
        if key in out and out[key] is not None:
            val = out[key]
            text = f"{val:.6g}" if isinstance(val, float) else str(val)
            table.add_row(label, text)
    Console().print(table)
