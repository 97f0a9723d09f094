"""``factmlp construct``: build an MLP that stores a fact set, write it, certify it."""

from __future__ import annotations

import sys

import click

from ._common import (
    EXIT_BAD_INPUT,
    EXIT_NEGATIVE,
    EXIT_OK,
    check_out_file,
    dumps,
    fail,
    handle_errors,
    json_option,
    require_memory,
)


class _Hidden(click.ParamType):
    """``--hidden``: an int, or ``min``."""

    name = "INT|min"

    def convert(self, value, param, ctx):
        if value is None or isinstance(value, int) or value == "min":
            return value
        try:
            return int(value)
        except (TypeError, ValueError):
            self.fail(f"expected an integer or 'min', got {value!r}", param, ctx)


@click.command("construct")
@click.argument("factset", type=click.Path(dir_okay=False))
@click.option(
    "--method",
    default="encdec",
    show_default=True,
    help="Construction method (encdec, hebbian, ntk, gd, margin, any registered one; NAME+polish polishes).",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="Where to write the weights (safetensors, LlamaMLP layout).",
)
@click.option(
    "--hidden",
    type=_Hidden(),
    default=None,
    help="Hidden width h, or 'min': the smallest certified width (as factmlp minimize) "
    "[default: the method's guarantee width].",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--whiten", is_flag=True, help="encdec: whiten the values before computing readout directions.")
@click.option(
    "--polish",
    "do_polish",
    is_flag=True,
    help="Repair failing facts with factmlp.polish (never loses a certified fact); JSON gains 'polish'.",
)
@json_option
@handle_errors
def command(factset, method, out_path, hidden, seed, whiten, do_polish, as_json):
    """Construct an MLP storing FACTSET (.npz), write it to --out and certify it.

    JSON: {"method", "hidden", "params", "params_factored", "stored", "total",
    "seconds"} (and "polish": {"stored_before", "stored_after"}
    with --polish).  Exit 0 when every fact is certified stored, 1 when not, 2 on
    bad or infeasible input (nothing is written then).  --hidden min runs
    factmlp minimize instead (its JSON and exit codes).
    """
    from ..constructions import construct, method_label, resolve_method
    from ..errors import InvalidInputError
    from ..factset import FactSet
    from ..verify import verify_storage

    try:
        base, _ = resolve_method(method)
    except InvalidInputError as exc:
        fail(str(exc), EXIT_BAD_INPUT)
    method = method_label(method, True if do_polish else None)
    options = {}
    if whiten:
        if base.name != "encdec":
            fail(f"--whiten applies to method 'encdec' only, not {method!r}", EXIT_BAD_INPUT)
        options["whiten"] = True
    if hidden == "min":
        from .minimize import run_minimize

        run_minimize(factset, method, do_polish, seed, out_path, as_json, **options)
    if hidden is not None and hidden < 1:
        fail(f"--hidden must be >= 1, got {hidden}", EXIT_BAD_INPUT)
    check_out_file(out_path)
    fs = FactSet.load(factset)
    if hidden is not None:
        require_memory(3 * fs.dim * hidden * 8, f"--hidden {hidden} with d={fs.dim}")
    c = construct(fs, method, hidden=hidden, seed=seed, **options)
    report = verify_storage(c.mlp, fs)
    mlp = c.mlp
    polished = None
    if c.polish is not None:
        polished = {"stored_before": c.polish["stored_before"], "stored_after": c.polish["stored_after"]}
    mlp.save(out_path)
    out = {
        "method": c.method,
        "hidden": c.hidden,
        "params": c.params,
        "params_factored": c.params_factored,
        "stored": int(report.stored),
        "total": int(report.total),
        "seconds": float(c.seconds),
    }
    if polished is not None:
        out["polish"] = polished
    if as_json:
        click.echo(dumps(out))
    else:
        click.echo(
            f"{method}: hidden {c.hidden}, {c.params} parameters"
            + (f" ({c.params_factored} factored)" if c.params_factored is not None else "")
            + f", built in {c.seconds:.2f} s"
        )
        click.echo(f"certified stored: {report.stored}/{report.total}; weights written to {out_path}")
    sys.exit(EXIT_OK if report.stored == report.total and report.certified else EXIT_NEGATIVE)
