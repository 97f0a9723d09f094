"""Side-by-side capacity table (Markdown) from a sweep's results.csv.

One row per (family, d, F).  For each method the cell reads
``params (x GD, b/p)``: params = 3 d h* (median over seeds), its ratio to
GD's params at the same size, and bits per parameter F log2 N / params.  The
``bound`` column is the counting bound F log2 N / 32 (params at 32 bits per
parameter).  The time columns give, for every method but plain GD,
construction time at h* over GD's training time at its own h*
(``construct_seconds``, median over seeds): the cost of producing one MLP that
stores 100% of the facts.  A dash: that method has no successful run at that
size.  Headline lines follow the table.

    python benchmarks/capacity/make_table.py benchmarks/capacity/small/results.csv
"""

from __future__ import annotations

import math
import statistics
import sys
from collections import defaultdict

from factmlp.sweep import read_results

ORDER = ("encdec", "hebbian", "ntk", "margin", "gd+polish", "gd")


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
    head = ["family", "d", "F", "rho", "bound (32 b)"] + [f"{m} params (x GD, b/p)" for m in methods]
    head += [f"t {m} / t GD" for m in cons]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    best_vs_gd, best_vs_bound, speed = [], [], []
    per_method_vs_gd: dict[str, list[float]] = defaultdict(list)
    best_bits: list[tuple[str, int, int, str, float]] = []
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
            bits = 32.0 * bound / p[m]  # F log2 N / params
            row.append(f"{p[m]:,.0f} ({vs_gd}, {bits:.2f} b/p)")
            if gd and m != "gd":
                per_method_vs_gd[m].append(p[m] / gd)
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
            best_bits.append((fam, d, F, best, 32.0 * bound / cp[best]))
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
    for m in methods:
        xs = per_method_vs_gd.get(m)
        if xs:
            notes.append(
                f"- {m} params / GD params: {min(xs):.2f} .. {max(xs):.2f} "
                f"({sum(x <= 2 for x in xs)} of {len(xs)} sizes at or below 2.0x, "
                f"{sum(x <= 1 for x in xs)} at or below 1.0x)"
            )
    if best_bits:
        top_d = max(b[1] for b in best_bits)
        top_F = max(b[2] for b in best_bits if b[1] == top_d)
        cells = ", ".join(f"{fam} {m} {bp:.2f}" for fam, d, F, m, bp in best_bits if (d, F) == (top_d, top_F))
        notes.append(f"- best construction bits / param at d = {top_d}, F = {top_F}: {cells}")
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
