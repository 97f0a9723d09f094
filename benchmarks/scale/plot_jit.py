"""Figure from ``benchmarks/results/scale_jit.csv`` (written by ``bench_jit.py``).

``scale_jit.png`` / ``.pdf`` next to the CSV: CPU seconds of ``decodability``
per N (d = 128), one bar per path (baseline = the solver before the change,
nojit = the new source interpreted, jit = compiled by numba), styled by
``factmlp.plot_style``.

    python benchmarks/scale/plot_jit.py
"""

from __future__ import annotations

import argparse
import csv
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from factmlp import plot_style as ps  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATHS = ("baseline", "nojit", "jit")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", default=os.path.join(ROOT, "benchmarks", "results", "scale_jit.csv"))
    args = ap.parse_args(argv)
    with open(args.csv, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["kind"] == "decodability"]
    sizes = sorted({int(r["N"]) for r in rows})
    with ps.style():
        fig, ax = plt.subplots(figsize=(5.0, 3.2))
        width = 0.8 / len(PATHS)
        for i, path in enumerate(PATHS):
            cpu = {int(r["N"]): float(r["cpu_seconds"]) for r in rows if r["path"] == path}
            xs = [k + (i - (len(PATHS) - 1) / 2) * width for k in range(len(sizes)) if sizes[k] in cpu]
            ys = [cpu[n] for n in sizes if n in cpu]
            bars = ax.bar(xs, ys, width, label=path, color=ps.method_color(path, PATHS))
            ax.bar_label(bars, fmt="%.1f", fontsize=7)
        ax.set_xticks(range(len(sizes)), [f"N = {n:,}" for n in sizes])
        ax.set_ylabel("CPU seconds (1 thread)")
        ax.set_title("rho, spherical values, d = 128, seed 0")
        ax.legend()
        for path in ps.save(fig, os.path.dirname(os.path.abspath(args.csv)), "scale_jit"):
            print("wrote", path)


if __name__ == "__main__":
    main()
