"""``factmlp check-weights``: certify which facts a saved MLP stores."""

from __future__ import annotations

import sys
import warnings

import click

from ._common import EXIT_NEGATIVE, EXIT_OK, dumps, handle_errors, json_option


@click.command("check-weights")
@click.argument("factset", type=click.Path(dir_okay=False))
@click.argument("weights", type=click.Path(dir_okay=False))
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help="Keys per float64 batch [default: from a 256 MiB memory budget].",
)
@click.option(
    "--max-recompute",
    type=click.IntRange(min=0),
    default=10_000,
    show_default=True,
    help="At most this many near-tie facts are recomputed exactly; the rest stay uncertified.",
)
@json_option
@handle_errors
def command(factset, weights, batch_size, max_recompute, as_json):
    """Certify the facts of FACTSET (.npz) stored by WEIGHTS (.safetensors).

    Fact i is stored iff min_{j != f(i)} <g(k_i), v_f(i) - v_j> > 0 for the
    exact weights; a fact counts only when that is proven (float64 with a
    rigorous error bound, exact or interval recomputation of near-ties).
    JSON: {"stored", "total", "min_margin", "certified", "failing"}.  Exit 0
    when every fact is certified stored, 1 when not, 2 on bad input.
    """
    from ..factset import load_factset
    from ..mlp import load_mlp
    from ..verify import RecomputationCapWarning, verify_storage

    fs = load_factset(factset)
    mlp = load_mlp(weights)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RecomputationCapWarning)
        report = verify_storage(mlp, fs, batch_size=batch_size, max_recompute=max_recompute)
    if as_json:
        click.echo(dumps(report.to_dict()))
    else:
        click.echo(
            f"{factset}: F={fs.n_facts} facts, N={fs.n_values} values, d={fs.dim}; "
            f"{weights}: h={mlp.hidden}, activation {mlp.activation}, dtype {mlp.dtype}"
        )
        verdict = "all facts certified stored" if report.certified else "NOT all facts certified stored"
        click.echo(f"stored {report.stored}/{report.total}: {verdict}")
        click.echo(
            f"min margin {report.min_margin:.6g} (max error bound {float(report.error_bounds.max()):.3g}); "
            f"{report.recomputed.size} near-tie fact(s) decided exactly"
        )
        if report.failing.size:
            shown = ", ".join(str(int(i)) for i in report.failing[:20])
            more = f", ... ({report.failing.size} in all)" if report.failing.size > 20 else ""
            click.echo(f"failing facts: [{shown}{more}]")
            if report.argmax_wrong.size:
                click.echo(f"  {report.argmax_wrong.size} with a competing value strictly beating the target")
            if report.undecided.size:
                click.echo(f"  {report.undecided.size} undecided (never counted stored)")
        for w in caught:
            if issubclass(w.category, RecomputationCapWarning):
                click.echo(f"note: {w.message}")
    sys.exit(EXIT_OK if report.certified else EXIT_NEGATIVE)
