"""``factmlp verify``: run the paper's claims and write a citable certificate."""

from __future__ import annotations

import sys

import click

from ._common import EXIT_BAD_INPUT, EXIT_NEGATIVE, check_out_dir, dumps, fail, handle_errors, json_option


@click.command("verify")
@click.option("--claims", "claim_ids", default=None, help="Comma-separated claim ids, e.g. C1,C3 [default: all].")
@click.option("--profile", type=click.Choice(["quick", "full"]), default="quick", show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="report",
    show_default=True,
    help="Directory for certificate.json, report.md, report.tex.",
)
@click.option("--method", default=None, help="Override the construction the claims exercise (for testing).")
@click.option(
    "--mutants",
    "mutants",
    is_flag=True,
    help="Instead: apply each registered mutant and report which claim or derivation caught it.",
)
@click.option("--only", "only", default=None, help="With --mutants: comma-separated mutant names [default: all].")
@json_option
@handle_errors
def command(claim_ids, profile, seed, out_dir, method, mutants, only, as_json):
    """Check the paper's claims; write certificate.json, report.md and report.tex.

    Exit 0 when every claim passes, 1 when any fails or is not run.  With
    ``--mutants``: exit 0 only when every mutant is caught and the unpatched
    control passes, else 1.
    """
    if mutants:
        _mutants_command(only, profile, seed, as_json)
        return
    from proofs_checks import claims as _claims  # noqa: F401
    from proofs_checks.framework import REGISTRY, run_claims
    from proofs_checks.report import headline, write_reports

    ids = [c.strip() for c in claim_ids.split(",") if c.strip()] if claim_ids is not None else None
    if ids is not None and not ids:
        fail(
            f"--claims {claim_ids!r} selects no claim; give ids such as C1,C3 or leave --claims out for all",
            EXIT_BAD_INPUT,
        )
    check_out_dir(out_dir)
    if ids:
        unknown = [i for i in ids if i not in REGISTRY]
        if unknown:
            fail(f"unknown claim id(s) {unknown}; known: {sorted(REGISTRY)}", EXIT_BAD_INPUT)
    if method is not None:
        from factmlp.constructions import METHODS

        if method not in METHODS:
            fail(f"unknown method {method!r}; known: {sorted(METHODS)}", EXIT_BAD_INPUT)

    from rich.console import Console

    console = Console(stderr=True)
    todo = ids or sorted(REGISTRY, key=lambda s: (len(s), s))
    with console.status(f"running {len(todo)} claim(s), profile {profile}") as status:

        def progress(cid: str, entry: dict) -> None:
            console.log(f"{cid} {entry['status']} ({entry['seconds']:.1f} s) {headline(entry, 3)}")
            status.update(f"ran {cid}")

        cert = run_claims(ids, profile=profile, seed=seed, method=method, progress=progress)
    paths = write_reports(cert, out_dir)
    if as_json:
        click.echo(
            dumps(
                {
                    "summary": cert["summary"],
                    "files": paths,
                    "claims": [{"id": c["id"], "status": c["status"]} for c in cert["claims"]],
                }
            )
        )
    else:
        s = cert["summary"]
        click.echo(f"{s['passed']}/{s['total']} claims pass; wrote {', '.join(paths.values())}")
    if not cert["summary"].get("all_passed", not cert["summary"]["failed"]):
        sys.exit(EXIT_NEGATIVE)


def _mutants_command(only, profile, seed, as_json) -> None:
    """``--mutants``: the table mutant -> caught by; exit 0 iff all caught and the control passed."""
    from proofs_checks.mutants import all_caught, load_mutants, run_mutants

    names = [n.strip() for n in only.split(",") if n.strip()] if only else None
    registered = load_mutants()
    if names:
        unknown = [n for n in names if n not in registered]
        if unknown:
            fail(f"unknown mutant(s) {unknown}; known: {sorted(registered)}", EXIT_BAD_INPUT)
    rows = run_mutants(names, profile=profile, seed=seed)
    ok = all_caught(rows)
    if as_json:
        click.echo(dumps({"all_caught": ok, "rows": [{k: v for k, v in r.items() if k != "traceback"} for r in rows]}))
    else:
        click.echo("| mutant | kind | expected | caught by | seconds |")
        click.echo("| --- | --- | --- | --- | ---: |")
        for r in rows:
            if r["kind"] == "control":
                caught = "control " + ("passed" if r["passed"] else f"FAILED: {', '.join(r['failed'])}")
                click.echo(f"| control (unpatched) | - | - | {caught} | {r['seconds']:.1f} |")
                continue
            caught = ", ".join(r["caught_by"]) or ("NOT CAUGHT" + (f" ({r['error']})" if r.get("error") else ""))
            click.echo(f"| {r['name']} | {r['kind']} | {', '.join(r['expected'])} | {caught} | {r['seconds']:.1f} |")
        n = sum(r["kind"] != "control" for r in rows)
        caught_n = sum(r["caught"] for r in rows if r["kind"] != "control")
        click.echo(f"{caught_n}/{n} mutants caught" + ("" if ok else "; not all caught or control failed"))
    if not ok:
        sys.exit(EXIT_NEGATIVE)
