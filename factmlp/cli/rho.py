"""``factmlp rho``: certified decodability rho of a fact set's values, and feasibility."""

from __future__ import annotations

import sys

import click

from ._common import EXIT_NEGATIVE, EXIT_OK, dumps, handle_errors, json_option


@click.command("rho")
@click.argument("factset", type=click.Path(dir_okay=False))
@click.option(
    "--tol",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    default=1e-9,
    show_default=True,
    help="Relative width of the certified bracket of each rho_j.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes to split the values over (rho_j is independent per value).",
)
@json_option
@handle_errors
def command(factset, tol, workers, as_json):
    """Compute rho(V) over the used values of FACTSET (.npz) with certificates.

    rho_j = max_{||u||<=1} min_{l != j} <v_j - v_l, u>/||v_j - v_l||.  Exit 0 when
    every used value is a certified vertex (feasible), 1 when not, 2 on bad input.
    """
    import numpy as np

    from ..decodability import decodability
    from ..factset import FactSet
    from ..feasibility import infeasibility_problems

    fs = FactSet.load(factset)
    used = fs.used_values
    res = decodability(fs.values, used, tol=tol, workers=workers)
    problems = infeasibility_problems(res)
    feasible = not problems
    per_value = [None if np.isnan(r) else float(r) for r in res.rho_per_value]
    out = {
        "rho": float(res.rho),
        "rho_per_value": per_value,
        "feasible": feasible,
        "infeasible_values": problems,
    }
    if as_json:
        click.echo(dumps(out))
    else:
        click.echo(f"{factset}: N={fs.n_values} values (used {len(used)}), d={fs.dim}, F={fs.n_facts} facts")
        lo = float(np.min(res.lower[used]))
        hi = float(np.min(res.upper[used]))
        click.echo(f"rho(V) = {res.rho:.12g}   certified bracket of the minimum: [{lo:.12g}, {hi:.12g}]")
        if feasible:
            click.echo("feasible: every used value is a certified vertex of conv(V)")
        else:
            click.echo(f"INFEASIBLE: {len(problems)} used value(s) cannot be decoded")
            for p in problems[:20]:
                if p["reason"] == "duplicate":
                    click.echo(f"  value {p['value']}: duplicate of value {p['duplicate_of']}")
                else:
                    click.echo(f"  value {p['value']}: inside the convex hull (rho_j <= {p['rho_upper']:.3g})")
            if len(problems) > 20:
                click.echo(f"  ... ({len(problems)} in all)")
    sys.exit(EXIT_OK if feasible else EXIT_NEGATIVE)
