"""Side-by-side capacity table (Markdown) from a sweep's results.csv.

One row per (family, d, F).  For each method the cell reads
``params (x GD, x bound)``: params = 3 d h* (median over seeds), its ratio to
GD's params at the same size, and its ratio to the counting bound
F log2 N / 32.  The time columns give construction time at h* over GD's
training time at its own h* (``construct_seconds``, median over seeds): the
cost of producing one MLP that stores 100% of the facts.  A dash: that method
has no successful run at that size.  Headline lines follow the table.

    python benchmarks/capacity/make_table.py benchmarks/capacity/small/results.csv
"""

from __future__ import annotations

import math
import statistics
import sys
from collections import defaultdict

from factmlp.sweep import read_results

ORDER = ("encdec", "hebbian", "ntk", "gd")


def _med(xs):
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    return statistics.median(xs) if xs else None


def table(rows: list[dict]) -> str:
    by = defaultdict(lambda: defaultdict(list))
    rho = {}
    for r in rows:
        if r["status"] != "ok":
            continue
        key = (r["family"], r["d"], r["F"])
        by[key][r["method"]].append(r)
        rho[key] = r["rho"]
    methods = [m for m in ORDER if any(m in v for v in by.values())]
    methods += sorted({m for v in by.values() for m in v} - set(methods))
    cons = [m for m in methods if m != "gd"]
    head = ["family", "d", "F", "rho", "bound (32 b)"] + [f"{m} params (x GD, x bound)" for m in methods]
    head += [f"t {m} / t GD" for m in cons]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    best_vs_gd, best_vs_bound, speed = [], [], []
    for key in sorted(by, key=lambda k: (k[0], k[1], k[2])):
        fam, d, F = key
        cell = by[key]
        bound = float(cell[next(iter(cell))][0]["counting_bound"])  # F log2 N / 32
        p = {m: _med([float(r["params"]) for r in cell[m]]) for m in methods if m in cell}
        t = {m: _med([float(r["construct_seconds"]) for r in cell[m]]) for m in methods if m in cell}
        gd = p.get("gd")
        row = [
            fam,
            str(d),
            str(F),
            f"{rho[key]:.3f}" if rho[key] is not None and math.isfinite(rho[key]) else "-",
            f"{bound:,.1f}",
        ]
        for m in methods:
            if m not in p:
                row.append("-")
                continue
            vs_gd = f"{p[m] / gd:.2f}x" if gd else "-"
            row.append(f"{p[m]:,.0f} ({vs_gd}, {p[m] / bound:.1f}x)")
        for m in cons:
            if m in t and t.get("gd"):
                row.append(f"{t[m] / t['gd']:.2g}")
            else:
                row.append("-")
        lines.append("| " + " | ".join(row) + " |")
        cp = {m: v for m, v in p.items() if m != "gd"}
        if cp:
            best = min(cp, key=cp.get)
            best_vs_bound.append((fam, cp[best] / bound))
            if gd:
                best_vs_gd.append(cp[best] / gd)
                if t.get(best) and t.get("gd"):
                    speed.append(t["gd"] / t[best])
    out = "\n".join(lines)
    notes = []
    if best_vs_gd:
        notes.append(
            f"- best construction params / GD params: {min(best_vs_gd):.2f} .. {max(best_vs_gd):.2f} "
            f"({sum(x <= 1 for x in best_vs_gd)} of {len(best_vs_gd)} sizes at or below GD)"
        )
    sph = [x for f, x in best_vs_bound if f == "spherical"]
    if sph:
        notes.append(
            f"- best construction params / counting bound (32 bits), spherical: {min(sph):.1f} .. {max(sph):.1f}"
        )
    if speed:
        notes.append(f"- GD time / best construction time: {min(speed):.3g} .. {max(speed):.3g}")
    return out + ("\n\n" + "\n".join(notes) if notes else "")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    print(table(read_results(argv[0] if argv else "benchmarks/capacity/small")))


if __name__ == "__main__":
    main()
