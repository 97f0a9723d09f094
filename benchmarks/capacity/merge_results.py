"""Union capacity results.csv files by configuration, never altering existing rows.

A row's configuration is its ``config_hash`` (SHA-256 of family, d, alpha, method,
seed, factset and options; see :func:`factmlp.sweep.config_hash`).  The rows of
BASE are written back byte for byte as parsed (same strings, same order); each row
of an ADD file whose config_hash is not yet present is appended after them, in the
order given.  A row of ADD whose config_hash is already present is skipped (the
existing row wins, even if the new one differs), and reported; with
``--replace`` the ADD row takes the existing row's place instead (a rerun after
a code change: the configuration hash does not include the code revision; the
``git_revision`` column does), and is reported as replaced.  ``--log`` gets one
block per merge, appended: a ``# merge`` line (date, flags), then one line per
appended row (``+ hash file``) and per replaced row (``replaced hash file``), so
the log is the history of every merge into BASE.

    python benchmarks/capacity/merge_results.py BASE.csv ADD1.csv [ADD2.csv ...] \\
        [--out OUT.csv] [--log NEW_ROWS.txt] [--replace]

Without ``--out`` BASE is rewritten in place.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import os
import sys


def _read(path: str) -> tuple[list[str], list[dict[str, str]], str]:
    """Header, raw string rows (no typing, so values round-trip) and line ending of a CSV file."""
    if os.path.isdir(path):
        path = os.path.join(path, "results.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        text = fh.read()
    header = next(csv.reader(io.StringIO(text, newline="")), [])
    if "config_hash" not in header:
        raise SystemExit(f"{path}: no config_hash column, not a capacity results file")
    eol = "\r\n" if "\r\n" in text.split("\n", 1)[0] + "\n" else "\n"
    return header, list(csv.DictReader(io.StringIO(text, newline=""))), eol


def merge(
    base: str, adds: list[str], replace: bool = False
) -> tuple[str, list[tuple[str, str]], list[tuple[str, str]]]:
    """CSV text of BASE's rows followed by the new rows of ADDS.

    Returns ``(text, new, skipped)``: ``new`` lists ``(config_hash, source
    path)`` of the appended rows; ``skipped`` those of the rows whose
    configuration BASE (or an earlier ADD) already held: left out, or with
    ``replace``, written in place of the held row.
    """
    header, rows, eol = _read(base)
    seen = {r["config_hash"] for r in rows}
    where = {r["config_hash"]: i for i, r in enumerate(rows)}
    new: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    for path in adds:
        h2, extra, _ = _read(path)
        header += [c for c in h2 if c not in header]
        for r in extra:
            if r["config_hash"] in seen:
                skipped.append((r["config_hash"], path))
                if replace:
                    rows[where[r["config_hash"]]] = r
                continue
            seen.add(r["config_hash"])
            where[r["config_hash"]] = len(rows)
            rows.append(r)
            new.append((r["config_hash"], path))
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=header, restval="", lineterminator=eol)
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue(), new, skipped


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base")
    ap.add_argument("adds", nargs="+")
    ap.add_argument("--out")
    ap.add_argument("--log")
    ap.add_argument("--replace", action="store_true", help="rows of ADD replace held rows of the same configuration")
    a = ap.parse_args(sys.argv[1:] if argv is None else argv)
    text, new, skipped = merge(a.base, a.adds, replace=a.replace)
    out = a.out or (os.path.join(a.base, "results.csv") if os.path.isdir(a.base) else a.base)
    with open(out, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    if a.log:
        stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        with open(a.log, "a", encoding="utf-8") as fh:
            fh.write(f"# merge {stamp} into {out}{' --replace' if a.replace else ''}\n")
            fh.writelines(f"+ {h} {p}\n" for h, p in new)
            if a.replace:
                fh.writelines(f"replaced {h} {p}\n" for h, p in skipped)
    held = "replaced by the new rows" if a.replace else "kept as they were"
    print(f"{out}: {len(new)} new rows appended, {len(skipped)} already present ({held})")


if __name__ == "__main__":
    main()
