"""Figures from the CSVs written by ``bench_transformer.py``.

Reads ``transformer_recall.csv``, ``transformer_editing.csv`` and
``transformer_noise.csv`` from ``--dir`` (default ``benchmarks/results``) and
writes next to them (PDF and PNG, styled by ``factmlp.plot_style``):

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

from factmlp import plot_style as ps  # noqa: E402


def _read(path: str) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _num(x: str) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _size(r: dict) -> str:
    return f"n = {r['vocab']}, d = {r['d']}, F = {r['facts']}"


def _save(fig, out: str) -> None:
    stem = os.path.splitext(out)[0]
    paths = ps.save(fig, os.path.dirname(stem) or ".", os.path.basename(stem))
    plt.close(fig)
    print("wrote " + ", ".join(paths))


def plot_recall(rows: list[dict], out: str) -> None:
    sizes = list(dict.fromkeys(_size(r) for r in rows))
    series = (
        ("recall", "no bypass"),
        ("bypass_recall_unscaled", "bypass, MLP unscaled"),
        ("bypass_recall_scaled", "bypass, MLP scaled"),
    )
    shades = ("#0072B2", "#56B4E9", "#B8DCF0")
    width = 0.27
    with ps.style():
        fig, axes = plt.subplots(1, len(sizes), figsize=(ps.TEXT_WIDTH, 2.6), squeeze=False, sharey=True)
        for ax, size in zip(axes[0], sizes, strict=True):
            rs = [r for r in rows if _size(r) == size]
            x = np.arange(len(rs))
            for j, (key, lab) in enumerate(series):
                ax.bar(
                    x + (j - 1) * width,
                    [_num(r.get(key, "")) for r in rs],
                    width,
                    label=lab,
                    color=shades[j],
                    edgecolor="0.2",
                    linewidth=0.3,
                )
            for i, r in enumerate(rs):
                if r.get("error"):
                    ax.text(i, 0.05, "error", ha="center", rotation=90, color="#D55E00")
            ax.set_xticks(x)
            ax.set_xticklabels([r["method"] for r in rs], rotation=30, ha="right")
            ax.set_ylim(0, 1.05)
            ax.set_title(size)
            ax.grid(False, axis="x")
        axes[0][0].set_ylabel("recall")
        fig.tight_layout()
        ps.legend_outside(fig)
    _save(fig, out)


def plot_editing(rows: list[dict], out: str) -> None:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    styles = ps.series_styles(methods)
    with ps.style():
        fig, axes = plt.subplots(1, 2, figsize=(ps.TEXT_WIDTH * 0.8, 2.4), sharey=True)
        fractions = sorted({100 * _num(r["fraction"]) for r in rows})
        for ax, key, title in ((axes[0], "edit_success", "edit success"), (axes[1], "retention", "retention")):
            for i, m in enumerate(methods):
                rs = sorted((r for r in rows if r["method"] == m), key=lambda r: _num(r["fraction"]))
                jitter = 1.0 + 0.04 * (i - (len(methods) - 1) / 2)  # methods often coincide at 1.0: offset in x
                ax.plot(
                    [100 * _num(r["fraction"]) * jitter for r in rs],
                    [_num(r[key]) for r in rs],
                    markersize=6 - 0.6 * i,
                    label=m,
                    **styles[m],
                )
            ps.log_ticks(ax, "x", fractions)
            ax.set_xlabel("edited facts (% of F)")
            ax.set_title(title)
            ax.set_ylim(-0.03, 1.05)
        axes[0].set_ylabel("fraction of facts")
        if rows:
            fig.suptitle(_size(rows[0]), y=1.02)
        fig.tight_layout()
        ps.legend_outside(fig)
    _save(fig, out)


def plot_noise(rows: list[dict], out: str) -> None:
    sizes = list(dict.fromkeys(_size(r) for r in rows))
    styles = ps.series_styles([r["method"] for r in rows])
    with ps.style():
        fig, axes = plt.subplots(1, len(sizes), figsize=(ps.TEXT_WIDTH, 2.5), squeeze=False, sharey=True)
        for ax, size in zip(axes[0], sizes, strict=True):
            rs = [r for r in rows if _size(r) == size]
            sigmas = sorted({_num(r["sigma"]) for r in rs if _num(r["sigma"]) > 0})
            for m in dict.fromkeys(r["method"] for r in rs):
                pts = sorted((_num(r["sigma"]), _num(r["recall"])) for r in rs if r["method"] == m)
                pts = [p for p in pts if p[0] > 0]  # log axis: sigma = 0 is the clean recall (1 for all)
                lo = _num(next(r for r in rs if r["method"] == m)["lipschitz_lower"])
                ax.plot([p[0] for p in pts], [p[1] for p in pts], label=f"{m} (L \u2265 {lo:.3g})", **styles[m])
            ps.log_ticks(ax, "x", sigmas)
            ax.set_xlabel("noise sigma at the MLP input")
            ax.set_title(size)
            ax.set_ylim(-0.03, 1.05)
            ps.legend_outside(ax, where="below", ncol=2)
        axes[0][0].set_ylabel("recall")
        fig.tight_layout()
    _save(fig, out)


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
