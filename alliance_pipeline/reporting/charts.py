"""Static charts for the report, drawn by matplotlib without a browser (SVG).

Every chart is drawn twice: a wide version for laptop screens and a narrow one
(about 380 px, same font size) that a phone shows at its natural size, so the
labels stay readable instead of shrinking to a few pixels (``Figure``).

Drawing is most of the report's cost, so inside ``reusing(folder)`` a chart whose
inputs (values, labels, size, this module's code and matplotlib's version) are those
of a chart the last report drew is read back from ``folder`` instead of drawn again.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import pickle
import re
import textwrap
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import matplotlib

from alliance_pipeline.atomic import atomic_path, remove_leftovers

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the non-interactive backend)

HIGHLIGHT = "#1b6ca8"
OTHER = "#a9c4d9"
STATE = "#6b6b6b"
COHORT = "#c0392b"
SUBJECT_COLOURS = {"Math": "#1b6ca8", "ELA": "#d35400"}
WIDE, NARROW = 7.0, 3.9  # inches at 96 px: ~670 px and ~375 px


@dataclass(frozen=True)
class Figure:
    """One chart as data: URIs (wide and narrow), its text alternative and caption."""

    key: str
    wide: str
    narrow: str
    alt: str
    caption: str = ""


def short_name(district_name: str) -> str:
    """'Bloomfield School District' -> 'Bloomfield' (chart labels only; tables keep full names)."""
    for suffix in (" School District", " Public Schools"):
        if district_name.endswith(suffix):
            return district_name[: -len(suffix)]
    return district_name


_FONT = re.compile(r"font-family: [^;\"]+;? ?")
_DECIMALS = re.compile(r"(\d\.\d{2})\d+")
_GROUP_ID = re.compile(r'<g id="[^"]*">')
_ROTATE0 = re.compile(r' transform="rotate\(-?0 [^)]*\)"')


def minify_svg(svg: str) -> str:
    """matplotlib's SVG without what a browser does not need: the XML prolog, DOCTYPE and metadata, the font list
    repeated on every text (set once in the stylesheet), coordinates past 2 decimals (1/100 pt), no-op rotations
    and the indentation. The drawing is unchanged at any zoom a reader uses."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = _FONT.sub("", svg)
    svg = svg.replace("*{stroke-linejoin: round; stroke-linecap: butt}",
                      "*{stroke-linejoin: round; stroke-linecap: butt}text{font-family: 'DejaVu Sans', "
                      "'Bitstream Vera Sans', Verdana, Arial, Helvetica, sans-serif}")
    svg = _GROUP_ID.sub("<g>", svg)  # group ids are never referenced (clip paths and markers keep theirs)
    svg = _DECIMALS.sub(r"\1", svg)
    svg = _ROTATE0.sub("", svg)
    svg = re.sub(r"\s*\n\s*", " ", svg)
    return re.sub(r">\s+<", "><", svg).replace(' style=""', "")


def _svg(figure) -> str:
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return minify_svg(buffer.getvalue())


def wrapped(title: str, width: float, size: float = 10, margin: float = 0.7) -> str:
    """``title`` broken into lines that fit a chart ``width`` inches wide at ``size`` points, less the ``margin``
    the axis labels take on the left (a title starts at the axes), at about 0.6 em per character, so a phone
    rendering never cuts it."""
    return textwrap.fill(title, max(16, int((width - margin) * 72 / (size * 0.6))))


def year_labels(years: list[str], width: float) -> tuple[list[int], list[str]]:
    """Tick positions and labels for school years on an axis ``width`` inches wide: every year while they fit,
    else every k-th (the newest always labelled), written '15-16' when space is short, so 3 to 12 school years
    never run together."""
    fits = max(2, int(width / 0.62))  # '2014-15' at 9 pt is about 0.55 in
    short = len(years) > fits
    labels = [f"{y[2:4]}-{y[5:7]}" if short and len(y) == 7 else y for y in years]
    fits = max(2, int(width / 0.4)) if short else fits
    step = max(1, -(-len(years) // fits))
    positions = [i for i in range(len(years)) if (len(years) - 1 - i) % step == 0]
    return positions, [labels[i] for i in positions]


def _padded_range(values: list[float], share: float = 0.12) -> tuple[float, float]:
    low, high = min(values), max(values)
    pad = (high - low) * share or max(abs(high) * 0.05, 1.0)
    return low - pad, high + pad


_REUSE: ContextVar[tuple[Path, set[str]] | None] = ContextVar("chart_reuse", default=None)
_DRAWN_BY = hashlib.sha256(Path(__file__).read_bytes() + matplotlib.__version__.encode()).hexdigest()


@contextmanager
def reusing(folder: Path) -> Iterator[None]:
    """Charts drawn inside the block are kept in ``folder`` by the SHA-256 of their inputs, and a chart kept there
    is read back instead of drawn (the same inputs draw the same SVG: ``svg.hashsalt`` is the title). When the block
    ends without an error, the folder keeps only the charts it used: those of the report just built."""
    used: set[str] = set()
    token = _REUSE.set((folder, used))
    try:
        yield
    finally:
        _REUSE.reset(token)
    try:
        for path in folder.glob("*.svg"):
            if path.name not in used:
                path.unlink(missing_ok=True)
        remove_leftovers(folder)
    except OSError:  # a folder gone or read-only: the charts were drawn, only the next reuse is lost
        pass


def _reused(draw):
    """``draw`` (a chart function returning SVG), looked up first in the folder of the ``reusing`` block around it."""

    @functools.wraps(draw)
    def reuse_or_draw(*args, **kwargs) -> str:
        reuse = _REUSE.get()
        if reuse is None:
            return draw(*args, **kwargs)
        folder, used = reuse
        inputs = pickle.dumps((draw.__name__, args, sorted(kwargs.items()), _DRAWN_BY), protocol=5)
        path = folder / f"{hashlib.sha256(inputs).hexdigest()}.svg"
        used.add(path.name)
        try:
            return path.read_text(encoding="utf-8")
        except OSError:  # not drawn before (or unreadable): drawn now
            pass
        svg = draw(*args, **kwargs)
        try:
            with atomic_path(path) as tmp:
                tmp.write_text(svg, encoding="utf-8")
        except OSError:  # a full or read-only disk costs the next report a drawing, never this one its charts
            pass
        return svg

    return reuse_or_draw


@_reused
def bar_chart_svg(
    labels: list[str], values: list[float], highlighted: list[bool], xlabel: str, title: str,
    reference: float | None = None, zero_based: bool = True, width: float = WIDE, digits: int = 2,
) -> str:
    """A horizontal bar chart, first label at the top, each bar labelled with its value, as SVG (text kept as text).

    ``highlighted`` marks the bars drawn in the strong colour (e.g. the top N);
    ``reference`` draws a dashed vertical line (e.g. zero change). With
    ``zero_based=False`` (a level whose zero means nothing, such as an index
    between 50 and 70) the values are drawn as dots on an axis that spans the
    data, since a bar's length would only mean something from zero.
    """
    if not (len(labels) == len(values) == len(highlighted)):
        raise ValueError("labels, values and highlighted must have the same length")
    height = max(1.6, 0.26 * len(labels) + 1.0)
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": title, "font.size": 9, "text.parse_math": False}):
        figure, axes = plt.subplots(figsize=(width, height))
        try:
            positions = list(range(len(labels)))[::-1]
            colours = [HIGHLIGHT if h else OTHER for h in highlighted]
            text = [f"{v:.{digits}f}" for v in values]
            if zero_based:
                bars = axes.barh(positions, values, color=colours, height=0.7)
                axes.bar_label(bars, labels=text, padding=2, fontsize=8)
                low, high = min([0.0, *values]), max([0.0, *values])
                span = (high - low) or 1.0
                axes.set_xlim(low - (0.16 * span if low < 0 else 0), high + 0.16 * span)
            else:
                low, high = _padded_range(values, share=0.2)
                axes.hlines(positions, low, values, color=OTHER, linewidth=1)
                axes.scatter(values, positions, color=colours, zorder=3, s=28)
                for x, y, label in zip(values, positions, text):
                    axes.annotate(label, (x, y), xytext=(5, 0), textcoords="offset points", va="center", fontsize=8)
                axes.set_xlim(low, high)
            axes.set_yticks(positions, labels)
            axes.set_xlabel(xlabel)
            axes.set_title(wrapped(title, width, margin=1.5), loc="left", fontsize=10)
            if reference is not None:
                axes.axvline(reference, color="#555555", linewidth=0.8, linestyle="--")
            axes.spines[["top", "right"]].set_visible(False)
            axes.margins(y=0.5 / max(len(labels), 1))
            return _svg(figure)
        finally:
            plt.close(figure)


@_reused
def line_chart_svg(
    years: list[str], series: dict[str, list[float | None]], ylabel: str, title: str,
    colours: dict[str, str] | None = None, width: float = WIDE, height: float = 3.0,
    ylim: tuple[float, float] | None = None, styles: dict[str, str] | None = None, legend: bool = True,
    reference: float | None = None, marked: bool = False, markers: bool = True,
) -> str:
    """Lines over school years (one per series; a missing year leaves a gap), values labelled at the ends;
    ``reference`` draws a solid grey horizontal line (e.g. the state average as 0); ``marked`` frames the chart and
    bolds its title (an identified district among small multiples); without ``markers`` only a point with no
    neighbour to draw a line to is marked."""
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": title, "font.size": 9, "text.parse_math": False}):
        figure, axes = plt.subplots(figsize=(width, height))
        try:
            x = list(range(len(years)))
            if reference is not None:
                axes.axhline(reference, color=STATE, linewidth=1.0)
            for name, values in series.items():
                points = [float("nan") if v is None else float(v) for v in values]
                style = (styles or {}).get(name, "-")
                known_at = [v == v for v in points]
                isolated = [i for i in x if known_at[i] and not (i > 0 and known_at[i - 1])
                            and not (i + 1 < len(x) and known_at[i + 1])]  # a year a line cannot show
                every = x if markers and style == "-" else isolated
                axes.plot(x, points, marker="o" if every else None, markevery=every or None, markersize=3,
                          label=name, linewidth=1.6, color=(colours or {}).get(name), linestyle=style)
                known = [(i, v) for i, v in zip(x, points) if v == v]
                if known and legend:
                    axes.annotate(f"{known[-1][1]:.1f}", known[-1], xytext=(4, 0), textcoords="offset points",
                                  va="center", fontsize=8, color=(colours or {}).get(name))
            axes.set_xticks(*year_labels(years, width))
            axes.set_xlim(-0.3, len(years) - 1 + (0.6 if legend else 0.3))
            if ylim:
                axes.set_ylim(*ylim)
            axes.set_ylabel(ylabel)
            axes.set_title(wrapped(title, width), loc="left", fontsize=10, fontweight="bold" if marked else "normal")
            axes.spines[["top", "right"]].set_visible(False)
            if marked:
                figure.patch.set_edgecolor(HIGHLIGHT)
                figure.patch.set_linewidth(2.5)
            axes.grid(axis="y", color="#e5e5e5", linewidth=0.6)
            if legend:
                axes.legend(fontsize=8, frameon=False, loc="best")
            return _svg(figure)
        finally:
            plt.close(figure)


def chart_figure(draw, key: str, alt: str, caption: str = "", **chart) -> Figure:
    """A chart as a ``Figure``: ``draw`` (``bar_chart_svg`` or ``line_chart_svg``) rendered wide and narrow from the
    same values."""
    return Figure(key, data_uri(draw(**chart, width=WIDE)), data_uri(draw(**chart, width=NARROW), srcset=True), alt,
                  caption)


# Left as they are in a data: URL inside a double-quoted src attribute; everything else is percent-encoded.
_URL_SAFE = " /=:;,'().-_!*?@$+[]{}"


def data_uri(svg: str, srcset: bool = False) -> str:
    """The SVG as a data: URI, so the page stays one file and each chart keeps its own ids: percent-encoded text
    for an ``<img src>`` (about a seventh smaller than base64); base64 for a ``srcset``, where a space would end
    the URL. Neither holds a character HTML would escape."""
    if srcset:
        return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return "data:image/svg+xml," + urllib.parse.quote(svg.replace('"', "'"), safe=_URL_SAFE)
