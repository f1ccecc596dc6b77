"""Trusted trace and layout dicts to a go.Figure: no per-property validation, a slim template."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

USED_TRACE_TYPES = ("bar", "heatmap", "scatter", "scatter3d")
UNUSED_LAYOUT_KEYS = ("polar", "ternary", "geo", "colorscale")  # our figures set their colour scales


def _build_slim_template() -> dict:
    """Plotly's default template cut to what these figures use: the same look, ~2 KB instead of 7 KB.

    A template travels inside every figure, so its size is paid on every answer that holds one.
    """
    full = pio.templates["plotly"].to_plotly_json()
    data = {
        kind: [{key: value for key, value in entry.items() if key != "colorscale"} for entry in full["data"][kind]]
        for kind in USED_TRACE_TYPES
        if kind in full["data"]
    }
    layout = {key: value for key, value in full["layout"].items() if key not in UNUSED_LAYOUT_KEYS}
    return {"data": data, "layout": layout}


SLIM_TEMPLATE = _build_slim_template()


def build_figure(data: list[dict], layout: dict) -> go.Figure:
    """A go.Figure from plain dicts that the caller built from numpy data it has checked itself.

    Plotly validates every property (and every colour of a colour list) on construction, which
    costs 5-10x the rest of a figure builder in a callback. tests/unit/test_figures_valid.py runs
    every builder's output through that validation, so a misspelt property still fails a test.
    """
    return go.Figure(data=data, layout={"template": SLIM_TEMPLATE, **layout}, _validate=False)
