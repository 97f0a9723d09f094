"""Shared by the benchmark scripts: write result rows as one tidy CSV.

Scripts run as ``python benchmarks/<script>.py`` import it as ``_results``
(the script's folder is first on ``sys.path``).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence


def write_csv(path: str, rows: Sequence[dict], constant: dict | None = None) -> None:
    """Write ``rows`` to ``path`` (folders made), columns = union of the rows' keys in first-seen order.

    ``constant`` (e.g. ``{"provenance": json}``) adds the same columns to every row.
    """
    rows = [{**r, **(constant or {})} for r in rows]
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {path} ({len(rows)} rows)")
