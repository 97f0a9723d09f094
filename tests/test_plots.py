"""Capacity figures from a small hand-written results.csv."""

from __future__ import annotations

import csv
import math
import os

import pytest

from factmlp.errors import InvalidInputError
from factmlp.sweep import COLUMNS, read_results

pytest.importorskip("matplotlib")


def _write_csv(path, rows):
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in COLUMNS})


def _rows():
    rows = []
    for fam, rho in (("spherical", 0.5), ("spiked", 0.2)):
        for d in (8, 16):
            for alpha in ("1/4", "1/2"):
                F = round(eval(alpha) * d * d)
                for method, h in (("encdec", F // 2 + 1), ("gd", F // 4 + 1)):
                    for seed in (0, 1):
                        params = 3 * d * (h + seed)
                        rows.append(
                            {
                                "family": fam,
                                "d": d,
                                "alpha": alpha,
                                "F": F,
                                "N": F,
                                "method": method,
                                "seed": seed,
                                "h_star": h + seed,
                                "params": params,
                                "facts_per_param": F / params,
                                "bits_per_param": F * math.log2(F) / params,
                                "ratio_counting": params / (F * math.log2(F) / 32),
                                "rho": rho,
                                "status": "ok",
                                "seconds": 0.1,
                            }
                        )
    rows.append(
        {
            "family": "spherical",
            "d": 8,
            "alpha": "1",
            "F": 64,
            "N": 64,
            "method": "gd",
            "seed": 0,
            "status": "not_found",
            "facts_per_param": "nan",
        }
    )
    return rows


def test_plots_written(tmp_path):
    from factmlp.plots import FIGURES, plot_results

    src = tmp_path / "results.csv"
    _write_csv(src, _rows())
    paths = plot_results(str(tmp_path), str(tmp_path / "figs"))
    assert sorted(os.path.basename(p) for p in paths) == sorted(f"{n}.{e}" for n in FIGURES for e in ("png", "pdf"))
    for p in paths:
        assert os.path.getsize(p) > 0
    with open(tmp_path / "figs" / f"{FIGURES[0]}.png", "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    with open(tmp_path / "figs" / f"{FIGURES[0]}.pdf", "rb") as fh:
        assert fh.read(5) == b"%PDF-"


def test_counting_bound_lines_and_points(tmp_path):
    import matplotlib.pyplot as plt

    from factmlp.plots import make_figures

    src = tmp_path / "results.csv"
    _write_csv(src, _rows())
    rows = read_results(str(src))
    figs = make_figures(rows)
    fig = figs["facts_per_param_vs_F"]
    assert len(fig.axes) == 2  # one panel per family
    ax = fig.axes[0]
    bounds = {ln.get_label(): ln for ln in ax.get_lines() if ln.get_label().startswith("counting bound")}
    assert set(bounds) == {"counting bound, 32 bits/param (N = F)", "counting bound, 2 bits/param (N = F)"}
    for label, b in (("counting bound, 32 bits/param (N = F)", 32), ("counting bound, 2 bits/param (N = F)", 2)):
        x, y = bounds[label].get_data()
        assert all(abs(yy - b / math.log2(xx)) < 1e-12 for xx, yy in zip(x, y, strict=True))
    # one errorbar series per (method, d); each point the median over the two seeds
    series = {c.get_label(): c for c in ax.containers}
    assert set(series) == {f"{m}, d = {d}" for m in ("encdec", "gd") for d in (8, 16)}
    fam = sorted({r["family"] for r in rows})[0]
    for d in (8, 16):
        x, y = series[f"encdec, d = {d}"].lines[0].get_data()
        assert len(x) == 2
        for xx, yy in zip(x, y, strict=True):
            vals = [
                r["facts_per_param"]
                for r in rows
                if r["family"] == fam
                and r["method"] == "encdec"
                and r["d"] == d
                and r["F"] == xx
                and r["status"] == "ok"
            ]
            assert len(vals) == 2 and yy == pytest.approx(sum(vals) / 2)
    for fig in figs.values():
        plt.close(fig)


def test_no_successful_rows(tmp_path):
    from factmlp.plots import plot_results

    src = tmp_path / "results.csv"
    _write_csv(src, [r for r in _rows() if r["status"] != "ok"])
    with pytest.raises(InvalidInputError, match="no successful runs"):
        plot_results(str(src), str(tmp_path / "figs"))
    with pytest.raises(InvalidInputError):
        read_results(str(tmp_path / "nothing_here.csv"))


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("shared_f", [False, True], ids=["distinct-F", "F-shared-by-two-d"])
def test_tick_labels_and_legend_do_not_collide(tmp_path, shared_f):
    """Drawn figures: no two tick labels of an axis overlap, and the legend covers no panel."""
    import matplotlib.pyplot as plt

    from factmlp.plots import make_figures

    rows = _rows()
    if shared_f:  # the standard sweep's case: F = 128 reached from d = 32 and d = 64
        rows = [dict(r, F=64) if r.get("d") == 8 and r.get("alpha") == "1/2" else r for r in rows]
    _write_csv(tmp_path / "results.csv", rows)
    figs = make_figures(read_results(str(tmp_path / "results.csv")))
    for name, fig in figs.items():
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        assert fig.legends, name
        legend_box = fig.legends[0].get_window_extent(renderer)
        for ax in fig.axes:
            assert not _overlaps(legend_box, ax.get_window_extent(renderer)), name
            for axis in (ax.xaxis, ax.yaxis):
                labels = [t for t in axis.get_ticklabels(which="both") if t.get_visible() and t.get_text()]
                assert labels or (axis is ax.yaxis and ax is not fig.axes[0]), name  # shared y: first panel only
                boxes = [t.get_window_extent(renderer) for t in labels]
                for i in range(len(boxes)):
                    for j in range(i + 1, len(boxes)):
                        assert not _overlaps(boxes[i], boxes[j]), (name, labels[i].get_text(), labels[j].get_text())
        plt.close(fig)
