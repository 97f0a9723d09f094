"""``factmlp make-factset``: write a random fact set to ``.npz``."""

from __future__ import annotations

import click

from ..families import FAMILIES, make_factset
from ._common import EXIT_OK, FiniteFloat, check_out_file, dumps, handle_errors, json_option, require_memory


@click.command("make-factset")
@click.option("--family", type=click.Choice(FAMILIES), default="spherical", show_default=True)
@click.option("--d", "d", type=click.IntRange(min=1), default=64, show_default=True, help="Embedding dimension d.")
@click.option("--facts", type=click.IntRange(min=1), default=1024, show_default=True, help="Number of facts F.")
@click.option(
    "--values",
    default=None,
    help="Number of values N [default: F]; with --from-embeddings, value ROWS (comma list or file).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--beta", type=FiniteFloat(), default=1.5, show_default=True, help="Spike strength (family 'spiked').")
@click.option(
    "--condition",
    type=FiniteFloat(min=1.0),
    default=10.0,
    show_default=True,
    help="Condition number (family 'condition').",
)
@click.option("--float32", "float32", is_flag=True, help="Store keys and values as float32.")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True, help="Output .npz path.")
@click.option(
    "--from-embeddings",
    "embeddings",
    type=click.Path(dir_okay=False),
    default=None,
    help="Take keys and values from this checkpoint's embedding matrix (.safetensors, or .pt with torch).",
)
@click.option("--tensor", default=None, help="Name of the embedding tensor (with --from-embeddings).")
@click.option("--keys", "key_rows", default=None, help="Key ROWS (comma list or file) [default: --facts random rows].")
@click.option("--values-count", type=click.IntRange(min=2), default=None, help="Random value rows N [default: F].")
@click.option(
    "--map",
    "map_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Two-column file of (key row, value row) pairs [default: a random map].",
)
@json_option
@handle_errors
def command(
    family,
    d,
    facts,
    values,
    seed,
    beta,
    condition,
    float32,
    out,
    embeddings,
    tensor,
    key_rows,
    values_count,
    map_file,
    as_json,
):
    """Make a random fact set (keys, values, mapping) and save it as .npz."""
    import numpy as np

    check_out_file(out)
    if embeddings is not None:
        return _from_embeddings(
            embeddings, tensor, key_rows, values, facts, values_count, map_file, seed, float32, out, as_json
        )
    values = _count_values(values)
    itemsize = 4 if float32 else 8
    require_memory((facts + (values or facts)) * d * itemsize, f"--facts {facts} --values {values or facts} --d {d}")
    fs = make_factset(
        family,
        d,
        facts,
        values,
        seed,
        beta=beta,
        condition=condition,
        dtype=np.float32 if float32 else np.float64,
    )
    return _save_and_report(fs, out, seed, as_json, {"family": family}, f"family={family}")


def _count_values(text):
    """``--values`` of a synthetic family: an int N >= 2 (or None)."""
    from ..errors import InvalidInputError

    if text is None:
        return None
    try:
        n = int(text)
    except ValueError:
        raise InvalidInputError(f"--values: expected a number of values N >= 2, got {text!r}") from None
    if n < 2:
        raise InvalidInputError(f"--values: expected a number of values N >= 2, got {n}")
    return n


def _parse_rows(text, option):
    """ROWS: a comma-separated list of row indices, or a file of whitespace/comma-separated indices."""
    import os

    from ..errors import FileFormatError, InvalidInputError

    if text is None:
        return None
    if os.path.isfile(text):
        with open(text, encoding="utf-8") as fh:
            text = fh.read()
    parts = text.replace(",", " ").split()
    try:
        rows = [int(p) for p in parts]
    except ValueError:
        if len(parts) == 1:
            raise FileFormatError(f"{option}: {parts[0]!r} is neither a row list nor a file") from None
        raise InvalidInputError(f"{option}: expected integer row indices, got {text[:60]!r}") from None
    if not rows:
        raise InvalidInputError(f"{option}: no rows given")
    return rows


def _from_embeddings(path, tensor, key_rows, value_rows, facts, values_count, map_file, seed, float32, out, as_json):
    import numpy as np

    from ..errors import InvalidInputError
    from ..real import factset_from_embeddings

    if tensor is None:
        raise InvalidInputError("--from-embeddings needs --tensor NAME (the embedding matrix in the checkpoint)")
    src = click.get_current_context().get_parameter_source("facts")
    explicit_facts = src is not None and src.name != "DEFAULT"
    keys = _parse_rows(key_rows, "--keys")
    fs = factset_from_embeddings(
        path,
        tensor,
        keys=keys,
        values=_parse_rows(value_rows, "--values"),
        facts=facts if (explicit_facts or (keys is None and map_file is None)) else None,
        values_count=values_count,
        mapping=map_file,
        seed=seed,
    )
    if float32:
        fs = type(fs)(fs.keys.astype(np.float32), fs.values.astype(np.float32), fs.mapping, meta=fs.meta)
    return _save_and_report(
        fs, out, seed, as_json, {"family": "real", "checkpoint": path, "tensor": tensor}, f"from {path}:{tensor}"
    )


def _save_and_report(fs, out, seed, as_json, source: dict, source_text: str) -> int:
    """Save ``fs`` to ``out`` and print its summary (JSON, or one line naming ``source_text``)."""
    fs.save(out)
    info = {
        "path": out,
        **source,
        "d": fs.dim,
        "facts": fs.n_facts,
        "values": fs.n_values,
        "seed": seed,
        "sha256": fs.fingerprint(),
    }
    if as_json:
        click.echo(dumps(info))
    else:
        click.echo(f"wrote {out}: F={fs.n_facts} facts, N={fs.n_values} values, d={fs.dim}, {source_text}, seed={seed}")
    return EXIT_OK
