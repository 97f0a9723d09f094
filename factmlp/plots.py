"""Capacity figures from a sweep's ``results.csv`` (matplotlib, Agg backend, imported lazily).

Three figures, each written as PNG and PDF:

* ``facts_per_param_vs_F``: F / params(h*) against F, log-log, one panel per
  family, one colour per method (median over seeds, bars from min to max),
  with the counting bound ``F / (F log2 N / b) = b / log2 N`` drawn for
  b = 32 (float32 weights) and b = 2 (the "2 bits per parameter" GD
  yardstick), at N = F as in the family sweeps;
* ``facts_per_param_vs_rho``: F / params(h*) against rho(V), every family on
  one axis (marker per family, colour per method): the collapse the paper
  reports when capacity is plotted against decodability;
* ``h_star_vs_F``: the minimum width h* against F, log-log, per family.

Only rows with ``status == "ok"`` enter the figures.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from typing import Any, Sequence

from .errors import InvalidInputError

__all__ = ["plot_results", "make_figures", "FIGURES"]

FIGURES = ("facts_per_param_vs_F", "facts_per_param_vs_rho", "h_star_vs_F")

_MARKERS = "osD^v<>ph*"


def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise InvalidInputError("plots need matplotlib: pip install 'factmlp[plot]'") from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _ok_rows(rows: Sequence[dict]) -> list[dict]:
    out = []
    for r in rows:
        if r.get("status") != "ok":
            continue
        fpp, h = r.get("facts_per_param"), r.get("h_star")
        if fpp is None or h is None or not math.isfinite(float(fpp)):
            continue
        out.append(r)
    return out


def _median_band(values: list[float]) -> tuple[float, float, float]:
    v = sorted(values)
    n = len(v)
    med = v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])
    return med, v[0], v[-1]


def _grouped(rows: list[dict], key: str) -> dict[tuple, list[tuple[float, float, float, float]]]:
    """(family, method) -> sorted [(F, median, lo, hi)] of ``key`` over seeds and sizes with equal F."""
    acc: dict[tuple, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        acc[(r["family"], r["method"])][float(r["F"])].append(float(r[key]))
    out = {}
    for k, by_f in acc.items():
        out[k] = [(f, *_median_band(v)) for f, v in sorted(by_f.items())]
    return out


def _styles(rows: list[dict]) -> tuple[list[str], list[str], dict[str, Any], dict[str, str]]:
    import matplotlib

    methods = sorted({r["method"] for r in rows})
    families = sorted({r["family"] for r in rows})
    cmap = matplotlib.colormaps["tab10"]
    colors = {m: cmap(i % 10) for i, m in enumerate(methods)}
    markers = {f: _MARKERS[i % len(_MARKERS)] for i, f in enumerate(families)}
    return methods, families, colors, markers


def _render(fig: Any, name: str) -> dict[str, bytes]:
    """``{"NAME.png": bytes, "NAME.pdf": bytes}`` of ``fig`` (PDF without a creation date)."""
    import io

    out = {}
    for ext in ("png", "pdf"):
        buf = io.BytesIO()
        meta = {"CreationDate": None} if ext == "pdf" else {}
        fig.savefig(buf, format=ext, dpi=150, bbox_inches="tight", metadata=meta)
        out[f"{name}.{ext}"] = buf.getvalue()
    return out


def _per_family_loglog(plt, rows, key, ylabel, title, with_bounds):
    methods, families, colors, _ = _styles(rows)
    fig, axes = plt.subplots(1, len(families), figsize=(4.6 * len(families), 4), squeeze=False)
    groups = _grouped(rows, key)
    fs_all = sorted({float(r["F"]) for r in rows})
    for ax, fam in zip(axes[0], families):
        for m in methods:
            pts = groups.get((fam, m))
            if not pts:
                continue
            x = [p[0] for p in pts]
            y = [p[1] for p in pts]
            yerr = [[p[1] - p[2] for p in pts], [p[3] - p[1] for p in pts]]
            ax.errorbar(x, y, yerr=yerr, marker="o", ms=4, lw=1.2, capsize=2, color=colors[m], label=_label(m))
        if with_bounds and fs_all:
            lo, hi = max(min(fs_all), 2.0), max(max(fs_all), 2.0)
            grid = [lo * (hi / lo) ** (i / 49) for i in range(50)] if hi > lo else [lo, lo * 1.01]
            for b, ls in ((32.0, "--"), (2.0, ":")):
                ax.plot(grid, [b / math.log2(f) for f in grid], ls, color="black", lw=1,
                        label=f"counting bound, {int(b)} bits/param (N = F)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("facts F")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{title}: {fam}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _label(name: str) -> str:
    # matplotlib hides legend labels that start with "_"
    return name.lstrip("_") or name


def make_figures(rows: Sequence[dict]) -> dict[str, Any]:
    """The figures of :data:`FIGURES` as matplotlib Figures, keyed by name.

    ``rows`` as returned by :func:`factmlp.sweep.read_results`; only rows with
    ``status == "ok"`` are drawn.  Raises :class:`InvalidInputError` when there
    are none.
    """
    ok = _ok_rows(rows)
    if not ok:
        raise InvalidInputError(f"no successful runs (status 'ok') to plot among {len(rows)} row(s)")
    plt = _pyplot()
    figs: dict[str, Any] = {}
    figs[FIGURES[0]] = _per_family_loglog(plt, ok, "facts_per_param", "facts per parameter F / (3 d h*)",
                                          "facts per parameter", with_bounds=True)

    methods, families, colors, markers = _styles(ok)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    have_rho = False
    for m in methods:
        for fam in families:
            pts = [(float(r["rho"]), float(r["facts_per_param"])) for r in ok
                   if r["method"] == m and r["family"] == fam and r.get("rho") is not None
                   and math.isfinite(float(r["rho"])) and float(r["rho"]) > 0]
            if pts:
                have_rho = True
                ax.scatter([p[0] for p in pts], [p[1] for p in pts], color=colors[m],
                           marker=markers[fam], s=22, label=f"{_label(m)} / {fam}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("decodability rho(V) of the used values")
    ax.set_ylabel("facts per parameter")
    ax.set_title("facts per parameter vs decodability" + ("" if have_rho else " (no rho recorded)"))
    ax.grid(True, which="both", alpha=0.3)
    if have_rho:
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    figs[FIGURES[1]] = fig
    figs[FIGURES[2]] = _per_family_loglog(plt, ok, "h_star", "minimum hidden width h*", "h*", with_bounds=False)
    return figs


def plot_results(source: str | Sequence[dict], out: str) -> list[str]:
    """Write the figures of :data:`FIGURES` (PNG and PDF) under ``out``; return their paths.

    ``source`` is a results CSV, a sweep directory holding ``results.csv``, or
    rows as returned by :func:`factmlp.sweep.read_results`.  Raises
    :class:`InvalidInputError` when no row has ``status == "ok"``,
    :class:`~factmlp.errors.FileFormatError` for a CSV that is not text or
    not a results table.  Every figure is rendered in memory first and the
    files are then written all-or-nothing (:func:`factmlp._atomic.write_files`).
    """
    from ._atomic import check_output_dir, make_dirs, remove_dirs, write_files
    from .sweep import read_results

    check_output_dir(out)
    rows = read_results(source) if isinstance(source, (str, os.PathLike)) else list(source)
    figs = make_figures(rows)
    plt = _pyplot()
    files: dict[str, bytes] = {}
    for name in FIGURES:
        files.update({os.path.join(out, k): v for k, v in _render(figs[name], name).items()})
        plt.close(figs[name])
    created = make_dirs(out)
    try:
        return write_files(files)
    except BaseException:
        remove_dirs(created)
        raise
