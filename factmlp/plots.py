"""Capacity figures from a sweep's ``results.csv`` (matplotlib, Agg backend, imported lazily).

Three figures, each written as PNG and PDF:

* ``facts_per_param_vs_F``: F / params(h*) against F, log-log, one panel per
  family, one line per (method, d): colour per method, line style and marker
  per d (median over seeds, bars from min to max), GD in black as the trained
  baseline,
  with the counting bound ``F / (F log2 N / b) = b / log2 N`` drawn for
  b = 32 (float32 weights) and b = 2 (the "2 bits per parameter" GD
  yardstick), at N = F as in the family sweeps;
* ``facts_per_param_vs_rho``: F / params(h*) against rho(V), every family on
  one axis (marker per family, colour per method): the collapse the paper
  reports when capacity is plotted against decodability;
* ``h_star_vs_F``: the minimum width h* against F, log-log, per family,
  one line per (method, d).

Styles (fonts, sizes, colours, ticks, one legend outside the panels, PDF and
PNG) come from :mod:`factmlp.plot_style`.

Only rows with ``status == "ok"`` enter the figures.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from .errors import InvalidInputError

__all__ = ["plot_results", "make_figures", "FIGURES"]

FIGURES = ("facts_per_param_vs_F", "facts_per_param_vs_rho", "h_star_vs_F")


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
    """(family, method, d) -> sorted [(F, median, lo, hi)] of ``key`` over the seeds of each F."""
    acc: dict[tuple, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        acc[(r["family"], r["method"], int(r["d"]))][float(r["F"])].append(float(r[key]))
    out = {}
    for k, by_f in acc.items():
        out[k] = [(f, *_median_band(v)) for f, v in sorted(by_f.items())]
    return out


def _styles(rows: list[dict]) -> tuple[list[str], list[str], list[int]]:
    """Methods (the gd baseline last), families and dimensions d present in ``rows``."""
    methods = sorted({r["method"] for r in rows}, key=lambda m: (m == "gd", m))
    families = sorted({r["family"] for r in rows})
    ds = sorted({int(r["d"]) for r in rows})
    return methods, families, ds


def _legend_handles(methods: list[str], ds: list[int], bounds: bool) -> tuple[list, list[str]]:
    """Legend entries: one colour per method, one line style per d, the reference lines."""
    from matplotlib.lines import Line2D

    from . import plot_style as ps

    handles, labels = [], []
    for m in methods:
        if _is_polished(m):  # same colour as its base method: hollow markers tell them apart
            handles.append(Line2D([], [], color=ps.method_color(m, methods), lw=1, marker="o", mfc="none"))
        else:
            handles.append(Line2D([], [], color=ps.method_color(m, methods), lw=2))
        labels.append(_label(m) + (" (trained baseline)" if m == "gd" else ""))
    for i, d in enumerate(ds):
        st = ps.d_style(i)
        handles.append(Line2D([], [], color="0.35", linestyle=st["linestyle"], marker=st["marker"]))
        labels.append(f"d = {d}")
    if bounds:
        for b, ls in _BOUNDS:
            handles.append(Line2D([], [], color=ps.REFERENCE_COLOR, ls=ls, lw=1))
            labels.append(f"counting bound, {int(b)} bits/param (N = F)")
    return handles, labels


def _is_polished(method: str) -> bool:
    return method.endswith("+polish") and len(method) > len("+polish")


def _polished_style(method: str) -> dict:
    """Hollow markers and a thinner line for ``"M+polish"``, which shares ``M``'s colour."""
    return {"mfc": "none", "lw": 1.0, "ms": 6} if _is_polished(method) else {}


# counting-bound reference lines: (bits per parameter b, line style)
_BOUNDS = ((32.0, "--"), (2.0, ":"))


def _per_family_loglog(plt, rows, key, ylabel, with_bounds):
    """One panel per family; one line per (method, d): median over seeds, bars from min to max."""
    from . import plot_style as ps

    methods, families, ds = _styles(rows)
    groups = _grouped(rows, key)
    fs_all = sorted({float(r["F"]) for r in rows})
    ys_all = [float(r[key]) for r in rows]
    with ps.style():
        width = min(ps.TEXT_WIDTH, 2.3 * len(families) + 0.6)
        fig, axes = plt.subplots(1, len(families), figsize=(width, 2.4), squeeze=False, sharey=True)
        for ax, fam in zip(axes[0], families, strict=True):
            for m in methods:
                for i, d in enumerate(ds):
                    pts = groups.get((fam, m, d))
                    if not pts:
                        continue
                    x = [p[0] for p in pts]
                    y = [p[1] for p in pts]
                    yerr = [[p[1] - p[2] for p in pts], [p[3] - p[1] for p in pts]]
                    ax.errorbar(
                        x,
                        y,
                        yerr=yerr,
                        color=ps.method_color(m, methods),
                        label=f"{_label(m)}, d = {d}",
                        **ps.d_style(i),
                        **_polished_style(m),
                    )
            if with_bounds and fs_all:
                lo, hi = max(min(fs_all), 2.0), max(max(fs_all), 2.0)
                grid = [lo * (hi / lo) ** (i / 49) for i in range(50)] if hi > lo else [lo, lo * 1.01]
                for b, ls in _BOUNDS:
                    ax.plot(
                        grid,
                        [b / math.log2(f) for f in grid],
                        ls,
                        color=ps.REFERENCE_COLOR,
                        lw=1,
                        label=f"counting bound, {int(b)} bits/param (N = F)",
                    )
            ps.log_ticks(ax, "x", fs_all)
            ps.log_ticks(ax, "y", ys_all)
            ax.set_xlabel("facts F")
            ax.set_title(f"{fam}")
        axes[0][0].set_ylabel(ylabel)
        fig.tight_layout()
        ps.legend_outside(fig, *_legend_handles(methods, ds, with_bounds))
    return fig


def _label(name: str) -> str:
    # matplotlib hides legend labels that start with "_"
    return name.lstrip("_") or name


def make_figures(rows: Sequence[dict]) -> dict[str, Any]:
    """The figures of :data:`FIGURES` as matplotlib Figures, keyed by name.

    ``rows`` as returned by :func:`factmlp.sweep.read_results`; only rows with
    ``status == "ok"`` are drawn.  Raises :class:`InvalidInputError` when there
    are none.  Styles come from :mod:`factmlp.plot_style`: colour per method,
    line style and marker per d, the counting bound in grey, legends outside.
    """
    from . import plot_style as ps

    ok = _ok_rows(rows)
    if not ok:
        raise InvalidInputError(f"no successful runs (status 'ok') to plot among {len(rows)} row(s)")
    plt = _pyplot()
    figs: dict[str, Any] = {}
    figs[FIGURES[0]] = _per_family_loglog(
        plt, ok, "facts_per_param", "facts per parameter F / (3 d h*)", with_bounds=True
    )

    methods, families, ds = _styles(ok)
    with ps.style():
        fig, ax = plt.subplots(figsize=(ps.COLUMN_WIDTH, 2.6))
        have_rho = False
        rhos, fpps = [], []
        for m in methods:
            for k, fam in enumerate(families):
                pts = [
                    (float(r["rho"]), float(r["facts_per_param"]))
                    for r in ok
                    if r["method"] == m
                    and r["family"] == fam
                    and r.get("rho") is not None
                    and math.isfinite(float(r["rho"]))
                    and float(r["rho"]) > 0
                ]
                if pts:
                    have_rho = True
                    rhos += [p[0] for p in pts]
                    fpps += [p[1] for p in pts]
                    ax.scatter(
                        [p[0] for p in pts],
                        [p[1] for p in pts],
                        color=ps.method_color(m, methods),
                        marker=ps.MARKERS[k % len(ps.MARKERS)],
                        s=14,
                        label=f"{_label(m)} / {fam}",
                    )
        ps.log_ticks(ax, "x", rhos, max_fixed=0)
        ps.log_ticks(ax, "y", fpps, max_fixed=0)
        ax.set_xlabel("decodability rho(V) of the used values")
        ax.set_ylabel("facts per parameter")
        if not have_rho:
            ax.set_title("no rho recorded")
        fig.tight_layout()
        if have_rho:
            from matplotlib.lines import Line2D

            handles = [Line2D([], [], color=ps.method_color(m, methods), marker="o", ls="") for m in methods]
            handles += [
                Line2D([], [], color="0.35", marker=ps.MARKERS[k % len(ps.MARKERS)], ls="")
                for k in range(len(families))
            ]
            ps.legend_outside(fig, handles, [_label(m) for m in methods] + list(families))
    figs[FIGURES[1]] = fig
    figs[FIGURES[2]] = _per_family_loglog(plt, ok, "h_star", "minimum hidden width h*", with_bounds=False)
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
    from . import plot_style
    from ._atomic import check_output_dir, make_dirs, remove_dirs, write_files
    from .sweep import read_results

    check_output_dir(out)
    rows = read_results(source) if isinstance(source, (str, os.PathLike)) else list(source)
    figs = make_figures(rows)
    plt = _pyplot()
    files: dict[str, bytes] = {}
    for name in FIGURES:
        files.update({os.path.join(out, k): v for k, v in plot_style.render(figs[name], name, ("png", "pdf")).items()})
        plt.close(figs[name])
    created = make_dirs(out)
    try:
        return write_files(files)
    except BaseException:
        remove_dirs(created)
        raise
