"""Figures from the CSVs written by ``bench_transformer.py``.

Reads ``transformer_recall.csv``, ``transformer_editing.csv`` and
``transformer_noise.csv`` from ``--dir`` (default ``benchmarks/results``) and
writes next to them:

* ``transformer_recall.png``: per size, recall of the no-bypass model and of
  the bypass model (MLP unscaled / scaled by ``bypass_scale``) per method;
  methods that raised are marked "error";
* ``transformer_editing.png``: edit success and retention against the
  percentage of edited facts, one line per editing method;
* ``transformer_noise.png``: recall against the noise level sigma at the MLP
  input, one line per MLP (and per size), Lipschitz lower bound in the legend.

    python benchmarks/plot_transformer.py
"""

from __future__ import annotations

import argparse
import csv
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


MARKERS = ("o", "s", "^", "D", "v", "P")
STYLES = ("-", "--", "-.", ":", "-", "--")


def _read(path: str) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _num(x: str) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _size(r: dict) -> str:
    return f"n={r['vocab']}, d={r['d']}, F={r['facts']}"


def plot_recall(rows: list[dict], out: str) -> None:
    sizes = list(dict.fromkeys(_size(r) for r in rows))
    fig, axes = plt.subplots(1, len(sizes), figsize=(5.5 * len(sizes), 4), squeeze=False)
    series = (("recall", "no bypass"), ("bypass_recall_unscaled", "bypass, unscaled"),
              ("bypass_recall_scaled", "bypass, scaled"))
    width = 0.27
    for ax, size in zip(axes[0], sizes):
        rs = [r for r in rows if _size(r) == size]
        x = np.arange(len(rs))
        for j, (key, lab) in enumerate(series):
            ax.bar(x + (j - 1) * width, [_num(r.get(key, "")) for r in rs], width, label=lab)
        for i, r in enumerate(rs):
            if r.get("error"):
                ax.text(i, 0.05, "error", ha="center", rotation=90, fontsize=8, color="red")
        ax.set_xticks(x)
        ax.set_xticklabels([r["method"] for r in rs], rotation=30, ha="right", fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("recall")
        ax.set_title(size)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0][-1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    print(f"wrote {out}")


def plot_editing(rows: list[dict], out: str) -> None:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, key, title in ((axes[0], "edit_success", "edit success"), (axes[1], "retention", "retention")):
        for i, m in enumerate(methods):
            rs = sorted((r for r in rows if r["method"] == m), key=lambda r: _num(r["fraction"]))
            jitter = 1.0 + 0.04 * (i - (len(methods) - 1) / 2)  # methods often coincide at 1.0: offset in x
            ax.plot([100 * _num(r["fraction"]) * jitter for r in rs], [_num(r[key]) for r in rs],
                    marker=MARKERS[i % len(MARKERS)], linestyle=STYLES[i % len(STYLES)], markersize=7 - i,
                    label=m)
        ax.set_xscale("log")
        ax.set_xlabel("edited facts (% of F)")
        ax.set_title(title + (f" ({_size(rows[0])})" if rows else ""))
        ax.set_ylim(-0.03, 1.05)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("fraction")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    print(f"wrote {out}")


def plot_noise(rows: list[dict], out: str) -> None:
    sizes = list(dict.fromkeys(_size(r) for r in rows))
    fig, axes = plt.subplots(1, len(sizes), figsize=(5.5 * len(sizes), 4), squeeze=False, sharey=True)
    for ax, size in zip(axes[0], sizes):
        rs = [r for r in rows if _size(r) == size]
        for m in dict.fromkeys(r["method"] for r in rs):
            pts = sorted(((_num(r["sigma"]), _num(r["recall"])) for r in rs if r["method"] == m))
            pts = [p for p in pts if p[0] > 0]  # log axis: sigma = 0 is the clean recall (1 for all)
            lo = _num(next(r for r in rs if r["method"] == m)["lipschitz_lower"])
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{m} (L >= {lo:.3g})")
        ax.set_xscale("log")
        ax.set_xlabel("noise sigma at the MLP input (per-coordinate, keys rms 1)")
        ax.set_title(size)
        ax.set_ylim(-0.03, 1.05)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("recall")
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    print(f"wrote {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=os.path.join(os.path.dirname(__file__), "results"))
    args = ap.parse_args()
    d = args.dir
    plot_recall(_read(os.path.join(d, "transformer_recall.csv")), os.path.join(d, "transformer_recall.png"))
    plot_editing(_read(os.path.join(d, "transformer_editing.csv")), os.path.join(d, "transformer_editing.png"))
    plot_noise(_read(os.path.join(d, "transformer_noise.csv")), os.path.join(d, "transformer_noise.png"))


if __name__ == "__main__":
    main()
