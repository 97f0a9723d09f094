"""``factmlp minimize``: the smallest certified width of a method, its weights written.

Runs :func:`factmlp.minimize.minimize` (bisection from the method's default
width, then a probe window below it; every probe certified by
:func:`factmlp.verify.verify_storage`) and writes the certified MLP.
``factmlp construct --hidden min`` runs the same :func:`run_minimize`.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from ._common import EXIT_NEGATIVE, EXIT_OK, check_out_file, dumps, fail, handle_errors, json_option

__all__ = ["command", "run_minimize"]


def run_minimize(
    factset_path: str, method: str, polish: bool, seed: int, out_path: str, as_json: bool, **options: Any
) -> None:
    """Minimize, write ``out_path``, print the result and exit: 0 certified, 1 no width certified in range.

    JSON: ``{"method", "hidden", "params", "bits_per_param", "stored",
    "total", "seconds"}``.  Nothing is written when no width is certified.
    """
    from ..errors import NoCertifiedWidthError
    from ..factset import FactSet
    from ..minimize import minimize

    check_out_file(out_path)
    fs = FactSet.load(factset_path)
    try:
        res = minimize(fs, method, polish=polish, seed=seed, **options)
    except NoCertifiedWidthError as exc:
        fail(str(exc), EXIT_NEGATIVE)
        raise  # unreachable: fail exits
    res.mlp.save(out_path)
    out = res.to_json()
    if as_json:
        click.echo(dumps(out))
    else:
        click.echo(
            f"{out['method']}: smallest certified width {out['hidden']} ({out['params']} parameters, "
            f"{out['bits_per_param']:.3f} bits/parameter), {len(res.probes)} widths probed in {out['seconds']:.2f} s"
        )
        click.echo(f"certified stored: {out['stored']}/{out['total']}; weights written to {out_path}")
    sys.exit(EXIT_OK)


@click.command("minimize")
@click.argument("factset", type=click.Path(dir_okay=False))
@click.option("--method", required=True, help="Construction method (a registered name, or NAME+polish).")
@click.option(
    "--polish",
    "do_polish",
    is_flag=True,
    help="Polish at every probed width (factmlp.polish; never loses a certified fact).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Construction seed of every probe.")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="Where to write the weights (safetensors, LlamaMLP layout).",
)
@json_option
@handle_errors
def command(factset, method, do_polish, seed, out_path, as_json):
    """Find the smallest hidden width at which METHOD's MLP is certified to store FACTSET (.npz).

    JSON: {"method", "hidden", "params", "bits_per_param", "stored", "total",
    "seconds"}.  Exit 0 with the certified weights written to --out, 1 when no
    width in range is certified (nothing written), 2 on bad input.
    """
    run_minimize(factset, method, do_polish, seed, out_path, as_json)
