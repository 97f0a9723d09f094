"""One plotting style for every factmlp figure: fonts, sizes, colours, line styles, ticks, saving.

Used by :mod:`factmlp.plots` and the benchmark plotting scripts, so a
method has the same colour and a dimension d the same line style in every
figure.  matplotlib is imported lazily (only when a function here runs).

* sizes: :data:`COLUMN_WIDTH` (one column of a two-column paper, inches) and
  :data:`TEXT_WIDTH` (the full text width); :data:`RC` holds the font sizes;
* :func:`method_color` - a fixed colour per construction method (the
  Okabe-Ito colour-blind-safe palette), GD drawn in black as the baseline;
* :func:`series_styles` - colour, line style and marker for named variants
  (``gd(h=64)``, ``encdec+whiten``): the base method's colour, one line
  style per variant;
* :func:`d_style` - line style and marker for the i-th dimension d;
* :func:`log_ticks` - readable log-axis ticks (labels at the data values
  when there are few, else at 1-2-5 or powers of ten; minor ticks unlabelled);
* :func:`legend_outside` - one figure legend right of (or below) the panels;
* :func:`save` - PDF (vector, for papers) and PNG (for READMEs) side by side.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from typing import Any, cast

__all__ = [
    "COLUMN_WIDTH",
    "TEXT_WIDTH",
    "RC",
    "METHOD_COLORS",
    "REFERENCE_COLOR",
    "LINESTYLES",
    "MARKERS",
    "POLISH_LINESTYLE",
    "POLISH_MARKER",
    "style",
    "method_color",
    "series_styles",
    "d_style",
    "log_ticks",
    "legend_outside",
    "save",
]

COLUMN_WIDTH = 3.4  # inches: one column of a two-column paper
TEXT_WIDTH = 7.0  # inches: the full text width

RC: dict[str, Any] = {
    "font.family": "serif",
    "font.serif": ["DejaVu Serif"],
    "mathtext.fontset": "dejavuserif",
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.2,
    "lines.markersize": 4,
    "errorbar.capsize": 2,
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,  # TrueType in PDFs: editable text, accepted by publishers
}

# Okabe-Ito palette; GD (the trained baseline) in black
METHOD_COLORS: dict[str, str] = {
    "encdec": "#0072B2",
    "hebbian": "#009E73",
    "ntk": "#D55E00",
    "gd": "#000000",
    "margin": "#CC79A7",
    "polish": "#E69F00",
    "bilinear": "#56B4E9",
}
_EXTRA_COLORS = ("#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#999999")
REFERENCE_COLOR = "#777777"  # bounds and other reference lines
LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P")


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context in which figures are drawn with :data:`RC` (matplotlib's rc_context)."""
    import matplotlib

    with matplotlib.rc_context(cast(Any, RC)):  # RC's keys are rcParams names
        yield


#: line style of a polished method ``"M+polish"`` (``M``'s colour, this style, whatever the order)
POLISH_LINESTYLE = ":"
POLISH_MARKER = "X"
_POLISH_SUFFIX = "+polish"  # factmlp.constructions.POLISH_SUFFIX (not imported: plotting needs no numerics)


def method_color(method: str, others: Sequence[str] = ()) -> str:
    """The colour of ``method``: fixed for the known methods, else by its rank in ``others``.

    A polished spec ``"M+polish"`` has ``M``'s colour (the line style tells them apart).
    """
    if method.endswith(_POLISH_SUFFIX) and len(method) > len(_POLISH_SUFFIX):
        base = method[: -len(_POLISH_SUFFIX)]
        return method_color(base, [o[: -len(_POLISH_SUFFIX)] if o.endswith(_POLISH_SUFFIX) else o for o in others])
    if method in METHOD_COLORS:
        return METHOD_COLORS[method]
    unknown = sorted(m for m in set(others) | {method} if m not in METHOD_COLORS)
    return _EXTRA_COLORS[unknown.index(method) % len(_EXTRA_COLORS)]


def _base(name: str) -> str:
    return name.split("(")[0].split("+")[0]


def series_styles(names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """name -> {color, linestyle, marker}: variants of one method share its colour, differ in style.

    The base of ``gd(h=64)`` and of ``encdec+whiten`` is the text before the
    first ``(`` or ``+``; bases are coloured by :func:`method_color`, and the
    k-th variant of a base (in the order given) gets the k-th line style and
    marker.  A polished method ``"M+polish"`` always gets
    :data:`POLISH_LINESTYLE` and :data:`POLISH_MARKER`, which no other variant uses.
    """
    names = list(dict.fromkeys(names))
    bases = list(dict.fromkeys(_base(n) for n in names))
    seen: dict[str, int] = {}
    out: dict[str, dict[str, Any]] = {}
    for n in names:
        color = method_color(_base(n), bases)
        if n.endswith(_POLISH_SUFFIX) and len(n) > len(_POLISH_SUFFIX):
            out[n] = {"color": color, "linestyle": POLISH_LINESTYLE, "marker": POLISH_MARKER}
            continue
        k = seen[_base(n)] = seen.get(_base(n), -1) + 1
        out[n] = {"color": color, **_variant_style(k)}
    return out


def _variant_style(index: int) -> dict[str, Any]:
    styles = [ls for ls in LINESTYLES if ls != POLISH_LINESTYLE]
    markers = [mk for mk in MARKERS if mk != POLISH_MARKER]
    return {"linestyle": styles[index % len(styles)], "marker": markers[index % len(markers)]}


def d_style(index: int) -> dict[str, Any]:
    """Line style and marker of the ``index``-th dimension d (in increasing d)."""
    return {"linestyle": LINESTYLES[index % len(LINESTYLES)], "marker": MARKERS[index % len(MARKERS)]}


def _plain(v: float) -> str:
    """A tick label: a plain number for moderate values (32, 1,024, 0.05), else m x 10^k in mathtext."""
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    k = math.floor(math.log10(abs(v)) + 1e-9)
    m = v / 10**k
    power_of_ten = abs(m - 1) < 1e-9
    if 1e-3 <= abs(v) < 1e4 and not (power_of_ten and (k >= 3 or k <= -3)):
        if float(v).is_integer():
            return f"{int(v):,}"
        return f"{v:.3g}"
    return f"$10^{{{k}}}$" if power_of_ten else f"${m:.2g}\\times 10^{{{k}}}$"


def log_ticks(ax: Any, axis: str = "x", values: Sequence[float] = (), max_fixed: int = 7) -> None:
    """Log-scale ``axis`` ('x' or 'y') of ``ax`` with labels that do not collide.

    With at most ``max_fixed`` distinct positive ``values`` (the data's
    coordinates, e.g. the fact counts F), major ticks sit at those values;
    otherwise at 1, 2, 5 x 10^k when the data span under two decades, at
    powers of ten beyond.  Labels are plain numbers (32, 0.05); minor ticks
    carry no label (matplotlib labels them on short log axes, which is
    what made "3x10^1 4x10^1 6x10^1" run together).
    """
    from matplotlib import ticker

    axis_obj = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    vals = sorted({float(v) for v in values if v is not None and math.isfinite(float(v)) and float(v) > 0})
    if vals and len(vals) <= max_fixed:
        axis_obj.set_major_locator(ticker.FixedLocator(vals))
    else:
        lo, hi = (vals[0], vals[-1]) if vals else (1.0, 10.0)
        subs = (1.0, 2.0, 5.0) if hi / lo < 100 else (1.0,)
        axis_obj.set_major_locator(ticker.LogLocator(base=10, subs=subs))
    axis_obj.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: _plain(v)))
    axis_obj.set_minor_locator(ticker.LogLocator(base=10, subs="auto"))
    axis_obj.set_minor_formatter(ticker.NullFormatter())


def legend_outside(
    target: Any,
    handles: Sequence[Any] | None = None,
    labels: Sequence[str] | None = None,
    where: str = "right",
    ncol: int = 1,
) -> Any:
    """A legend outside the data: right of or below ``target`` (a Figure, or one Axes).

    Without ``handles`` the labelled artists of ``target`` (of a Figure's
    first Axes) are used.  A Figure legend sits outside every panel.
    """
    is_figure = hasattr(target, "add_subplot")
    if handles is None:
        handles, labels = (target.axes[0] if is_figure else target).get_legend_handles_labels()
    if where == "below":  # below the figure, or below an Axes' x label
        anchor = (0.5, 0.0) if is_figure else (0.5, -0.28)
        return target.legend(handles, labels, loc="upper center", bbox_to_anchor=anchor, ncol=ncol)
    return target.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), ncol=ncol)


def render(fig: Any, name: str, formats: Sequence[str] = ("pdf", "png")) -> dict[str, bytes]:
    """``{"name.pdf": bytes, "name.png": bytes}``: ``fig`` rendered in memory in this style.

    The legend drawn by :func:`legend_outside` is kept inside the saved area
    (``bbox_inches='tight'`` from :data:`RC`).  PDFs carry no creation date, so
    redrawing a figure from the same data gives the same bytes.
    """
    import io

    out = {}
    with style():
        for ext in formats:
            buf = io.BytesIO()
            fig.savefig(buf, format=ext, metadata={"CreationDate": None} if ext == "pdf" else None)
            out[f"{name}.{ext}"] = buf.getvalue()
    return out


def save(fig: Any, out_dir: str | os.PathLike, name: str, formats: Sequence[str] = ("pdf", "png")) -> list[str]:
    """Write ``fig`` as ``out_dir/name.pdf`` and ``out_dir/name.png`` (atomically); return the paths."""
    from ._atomic import write_files

    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    files = {os.path.join(out_dir, k): v for k, v in render(fig, name, formats).items()}
    return write_files(files)
