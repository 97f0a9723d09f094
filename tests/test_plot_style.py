"""factmlp.plot_style: fixed colours per method, variant styles, tick labels, PDF + PNG saving."""

from __future__ import annotations

import pytest

from factmlp import plot_style as ps


def test_method_colors_fixed_and_distinct():
    known = ["encdec", "hebbian", "ntk", "gd"]
    colors = [ps.method_color(m, known) for m in known]
    assert len(set(colors)) == len(colors)
    assert ps.method_color("gd") == "#000000"
    # an unknown method gets a colour by rank among the unknown ones, never a known method's colour
    extra = ps.method_color("zeta", ["alpha_m", "zeta"])
    assert extra not in colors and extra != ps.method_color("alpha_m", ["alpha_m", "zeta"])


def test_variants_share_colour_differ_in_style():
    st = ps.series_styles(["gd(h=32)", "gd(h=64)", "encdec", "encdec+whiten"])
    assert st["gd(h=32)"]["color"] == st["gd(h=64)"]["color"] == ps.method_color("gd")
    assert st["encdec"]["color"] == st["encdec+whiten"]["color"] != st["gd(h=32)"]["color"]
    assert st["gd(h=32)"]["linestyle"] != st["gd(h=64)"]["linestyle"]
    assert st["encdec"]["marker"] != st["encdec+whiten"]["marker"]


@pytest.mark.parametrize(
    "value, label",
    [
        (32, "32"),
        (1024, "1,024"),
        (0.05, "0.05"),
        (100, "100"),
        (1e4, "$10^{4}$"),
        (2e5, r"$2\times 10^{5}$"),
        (1e-3, "$10^{-3}$"),
    ],
)
def test_tick_labels(value, label):
    assert ps._plain(value) == label


def test_save_writes_pdf_and_png(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    with ps.style():
        fig, ax = plt.subplots(figsize=(ps.COLUMN_WIDTH, 2))
        ax.plot([32, 64, 128], [1, 2, 3], label="x")
        ps.log_ticks(ax, "x", [32, 64, 128])
        fig.canvas.draw()
        assert [t.get_text() for t in ax.xaxis.get_ticklabels() if t.get_text()] == ["32", "64", "128"]
        ps.legend_outside(fig)
    paths = ps.save(fig, tmp_path, "f")
    again = ps.save(fig, tmp_path / "again", "f")
    plt.close(fig)
    assert [p.rsplit(".", 1)[1] for p in paths] == ["pdf", "png"]
    assert (tmp_path / "f.pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for first, second in zip(paths, again, strict=True):  # no creation date: same figure, same bytes
        with open(first, "rb") as a, open(second, "rb") as b:
            assert a.read() == b.read(), first


def test_polished_method_has_base_colour_and_its_own_style():
    names = ["gd", "gd+polish", "margin+polish", "margin", "encdec", "encdec+whiten", "encdec(h=8)", "encdec(h=9)"]
    st = ps.series_styles(names)
    assert st["gd+polish"]["color"] == st["gd"]["color"] == ps.method_color("gd")
    assert st["margin+polish"]["color"] == st["margin"]["color"] == ps.method_color("margin")
    assert ps.method_color("gd+polish") == ps.method_color("gd")
    assert ps.method_color("margin+polish", ["margin+polish"]) == ps.METHOD_COLORS["margin"]
    # the polished line style is the same whatever the order, and no plain variant uses it
    assert st["gd+polish"]["linestyle"] == st["margin+polish"]["linestyle"] == ps.POLISH_LINESTYLE
    assert ps.series_styles(["gd+polish"])["gd+polish"]["linestyle"] == ps.POLISH_LINESTYLE
    plain = [n for n in names if not n.endswith("+polish")]
    assert all(st[n]["linestyle"] != ps.POLISH_LINESTYLE for n in plain)
    assert all(st[n]["marker"] != ps.POLISH_MARKER for n in plain)
