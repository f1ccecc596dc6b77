"""Encoding legend: how the 3D network maps values to marker colour/size and edge colour/width."""

from __future__ import annotations

from dash import html

from singularity_dash.figures.colors import (
    DIVERGING_SCALE,
    NEGATIVE_COLOR,
    POSITIVE_COLOR,
    SEQUENTIAL_SCALE,
)

# Words for the scales' ends, kept next to the colours they describe (sequential is Cividis, diverging
# is ColorBrewer RdBu reversed).
SEQUENTIAL_LOW_WORDS = "dark blue"
SEQUENTIAL_HIGH_WORDS = "yellow"
NEGATIVE_WORDS = "blue"
POSITIVE_WORDS = "red"


def _gradient(scale: list[list]) -> str:
    """A CSS linear-gradient with the same stops as a plotly colorscale."""
    stops = ", ".join(f"{color} {100 * float(pos):.0f}%" for pos, color in scale)
    return f"linear-gradient(to right, {stops})"


def _swatch(background: str, width: str = "3em", height: str = "0.9em") -> html.Span:
    """A small inline colour bar or square."""
    return html.Span(style={"display": "inline-block", "width": width, "height": height, "background": background,
                            "verticalAlign": "middle", "border": "1px solid #999", "marginRight": "0.4em"})


def _line(width_px: int, color: str = "#555") -> html.Span:
    """A short horizontal stroke of a given thickness, standing for an edge."""
    return html.Span(style={"display": "inline-block", "width": "2em", "height": f"{width_px}px",
                            "background": color, "verticalAlign": "middle", "marginRight": "0.3em"})


def build_encoding_legend(id_prefix: str | None = None) -> html.Div:
    """A small legend: marker colour = activation, size = |activation|, edge colour = weight sign, width = |w|."""
    items = [
        html.Li([_swatch(_gradient(SEQUENTIAL_SCALE)),
                 f"Neuron colour = activation a: {SEQUENTIAL_LOW_WORDS} is low, {SEQUENTIAL_HIGH_WORDS} is high."]),
        html.Li([html.Span("● ", style={"fontSize": "0.7em"}), html.Span("● ", style={"fontSize": "1.3em"}),
                 "Neuron size = |a|: bigger means a stronger activation, whatever its sign."]),
        html.Li([_swatch(NEGATIVE_COLOR, width="1em"), _swatch(POSITIVE_COLOR, width="1em"),
                 f"Edge colour = weight sign: {NEGATIVE_WORDS} is negative (w < 0), {POSITIVE_WORDS} is "
                 f"positive (w > 0); pale means near 0."],
                title="ColorBrewer RdBu (colour-blind safe)"),
        html.Li([_swatch(_gradient(DIVERGING_SCALE)),
                 "The same blue-white-red scale colours signed values such as z and weights in every view."]),
        html.Li([_line(1), _line(4), "Edge width = |weight|: thicker means a stronger connection."]),
    ]
    kwargs = {"id": f"{id_prefix}-legend"} if id_prefix else {}
    return html.Div(
        [html.Div("How to read the network", className="fw-bold small mb-1"),
         html.Ul(items, className="list-unstyled small mb-0")],
        className="border rounded p-2", **kwargs,
    )
