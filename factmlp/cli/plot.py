"""``factmlp plot``: capacity figures (PNG and PDF) from a sweep's results.csv."""

from __future__ import annotations

import click

from ._common import EXIT_OK, check_out_dir, dumps, handle_errors, json_option


@click.command("plot")
@click.argument("results", type=click.Path(exists=True))
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Directory for the figures.")
@json_option
@handle_errors
def command(results, out, as_json):
    """Plot facts per parameter vs F (with the counting bound), vs rho, and h* vs F.

    RESULTS is a results.csv or the sweep directory holding it.
    """
    from ..plots import plot_results

    check_out_dir(out)
    paths = plot_results(results, out)
    if as_json:
        click.echo(dumps({"figures": paths}))
    else:
        for p in paths:
            click.echo(f"wrote {p}")
    return EXIT_OK
