"""``factmlp capacity``: a resumable capacity sweep (minimum width per method), serial or on Dask."""

from __future__ import annotations

import sys

import click

from ._common import (
    EXIT_NEGATIVE,
    EXIT_OK,
    check_out_dir,
    dumps,
    fail,
    handle_errors,
    json_option,
    require_memory,
    warn,
)


def _split(text: str) -> list[str]:
    return [t.strip() for t in str(text).split(",") if t.strip()]


@click.command("capacity")
@click.option(
    "--families",
    default="spherical",
    show_default=True,
    help="Comma-separated embedding families (see factmlp make-factset).",
)
@click.option("--d", "dims", default="64", show_default=True, help="Comma-separated dimensions d.")
@click.option(
    "--alpha",
    "alphas",
    default="1/8",
    show_default=True,
    help="Comma-separated fact densities alpha (exact fractions, e.g. 1/32,1/4,1): F = round(alpha d^2), N = F.",
)
@click.option(
    "--methods",
    default="encdec,hebbian,ntk",
    show_default=True,
    help="Comma-separated construction methods (a name, or NAME+polish).",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Number of construction seeds (0 .. seeds-1) per configuration.",
)
@click.option(
    "--factset-seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the generated fact sets."
)
@click.option(
    "--factset",
    "factsets",
    multiple=True,
    type=click.Path(exists=False),
    help="A fact set .npz (or a directory of them) to use instead of --families/--d/--alpha; repeatable.",
)
@click.option(
    "--out", type=click.Path(file_okay=False), required=True, help="Output directory (cache/ and results.csv)."
)
@click.option("--scheduler", default=None, help="Address of a running Dask scheduler (tcp://host:port).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Without --scheduler: 1 runs serially in-process, N > 1 starts a Dask LocalCluster of N processes.",
)
@click.option("--hi", type=click.IntRange(min=1), default=None, help="Largest width probed [default: max(2F, 16)].")
@click.option("--no-rho", is_flag=True, help="Skip the decodability rho of each fact set (NaN in the CSV).")
@click.option("--preload", multiple=True, help="Module each worker imports first (e.g. to register custom methods).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@json_option
@handle_errors
def command(
    families,
    dims,
    alphas,
    methods,
    seeds,
    factset_seed,
    factsets,
    out,
    scheduler,
    workers,
    hi,
    no_rho,
    preload,
    no_progress,
    as_json,
):
    """Minimum hidden width h* storing 100% of facts (certified), per configuration.

    One row per run (family x d x alpha x method x seed) in OUT/results.csv;
    each run is cached in OUT/cache/ by the SHA-256 of its configuration, so
    an interrupted sweep resumes where it stopped.  Exit 0 when every run
    found h*, 1 when some run found none or failed, 2 on bad input.
    """
    import warnings

    from ..sweep import DamagedCacheWarning, factset_configs, grid_configs, parse_fraction, run_sweep

    check_out_dir(out)

    method_list = _split(methods)
    if not method_list:
        fail("--methods: give at least one method")
    import importlib

    for mod in preload:  # may register methods
        try:
            importlib.import_module(mod)
        except ImportError as exc:
            fail(f"--preload: cannot import {mod!r} ({exc})")
    try:
        from ..constructions import METHODS, resolve_method
    except ImportError:
        pass
    else:
        from ..errors import InvalidInputError

        unknown = []
        for m in method_list:
            try:
                resolve_method(m)
            except InvalidInputError:
                unknown.append(m)
        if unknown:
            fail(f"unknown method(s) {unknown}; expected some of {sorted(METHODS)}, optionally with '+polish'")
    try:
        dim_list = [int(x) for x in _split(dims)]
    except ValueError:
        fail(f"--d: expected comma-separated integers, got {dims!r}")
    alpha_list = [parse_fraction(a) for a in _split(alphas)]
    options = {m: ({"hi": hi} if hi else {}) for m in method_list}
    if factsets:
        configs = factset_configs(list(factsets), method_list, seeds, options=options, rho=not no_rho)
    else:
        configs = grid_configs(
            _split(families),
            dim_list,
            alpha_list,
            method_list,
            seeds,
            factset_seed=factset_seed,
            options=options,
            rho=not no_rho,
        )
    if configs:
        big = max(configs, key=lambda c: (c["F"] + c["N"]) * c["d"])
        require_memory((big["F"] + big["N"]) * big["d"] * 8, f"d={big['d']} with F={big['F']} facts")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DamagedCacheWarning)
        rep = run_sweep(
            configs,
            out,
            scheduler=scheduler,
            workers=workers,
            preload=tuple(preload),
            progress=not no_progress and not as_json,
        )
    damaged = []
    for w in caught:
        if issubclass(w.category, DamagedCacheWarning):
            damaged.append(str(w.message))
            warn(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    n_ok = sum(1 for r in rep.rows if r.get("status") == "ok")
    summary = {
        "csv": rep.csv_path,
        "runs": len(rep.rows),
        "cached": rep.n_cached,
        "ran": rep.n_run,
        "ok": n_ok,
        "not_found": sum(1 for r in rep.rows if r.get("status") == "not_found"),
        "errors": rep.n_errors,
        "error_messages": rep.errors[:20],
        "seconds": rep.seconds,
        "warnings": damaged,
    }
    if as_json:
        click.echo(dumps(summary))
    else:
        click.echo(
            f"{len(rep.rows)} runs ({rep.n_cached} cached, {rep.n_run} run) in {rep.seconds:.1f} s: "
            f"{n_ok} ok, {summary['not_found']} without a storing width, {rep.n_errors} errors"
        )
        for e in rep.errors[:20]:
            click.echo(f"  error: {e}")
        click.echo(f"wrote {rep.csv_path}")
    sys.exit(EXIT_OK if n_ok == len(rep.rows) else EXIT_NEGATIVE)
