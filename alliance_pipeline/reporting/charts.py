"""Static charts for the report, drawn by matplotlib without a browser (SVG)."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the non-interactive backend)

HIGHLIGHT = "#1b6ca8"
OTHER = "#a9c4d9"


def short_name(district_name: str) -> str:
    """'Bloomfield School District' -> 'Bloomfield' (chart labels only; tables keep full names)."""
    for suffix in (" School District", " Public Schools"):
        if district_name.endswith(suffix):
            return district_name[: -len(suffix)]
    return district_name


def bar_chart_svg(
    labels: list[str], values: list[float], highlighted: list[bool], xlabel: str, title: str, reference: float | None = None
) -> str:
    """A horizontal bar chart, first label at the top, as an SVG document (text kept as text).

    ``highlighted`` marks the bars drawn in the strong colour (e.g. the top N);
    ``reference`` draws a dashed vertical line (e.g. zero change).
    """
    if not (len(labels) == len(values) == len(highlighted)):
        raise ValueError("labels, values and highlighted must have the same length")
    height = max(1.6, 0.26 * len(labels) + 1.0)
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": title, "font.size": 9}):
        figure, axes = plt.subplots(figsize=(7.0, height))
        try:
            positions = list(range(len(labels)))[::-1]
            colours = [HIGHLIGHT if h else OTHER for h in highlighted]
            axes.barh(positions, values, color=colours, height=0.7)
            axes.set_yticks(positions, labels)
            axes.set_xlabel(xlabel)
            axes.set_title(title, loc="left", fontsize=10)
            if reference is not None:
                axes.axvline(reference, color="#555555", linewidth=0.8, linestyle="--")
            axes.spines[["top", "right"]].set_visible(False)
            axes.margins(y=0.5 / max(len(labels), 1))
            figure.tight_layout()
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None})
        finally:
            plt.close(figure)
    return buffer.getvalue()


def data_uri(svg: str) -> str:
    """The SVG as a data: URI, so the page stays one file and each chart keeps its own ids."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
