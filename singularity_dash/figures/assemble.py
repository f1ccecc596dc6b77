"""Trusted trace and layout dicts to a go.Figure, without plotly's per-property validation."""

from __future__ import annotations

import plotly.graph_objects as go


def build_figure(data: list[dict], layout: dict) -> go.Figure:
    """A go.Figure from plain dicts that the caller built from numpy data it has checked itself.

    Plotly validates every property (and every colour of a colour list) on construction, which
    costs 5-10x the rest of a figure builder in a callback. tests/unit/test_figures_valid.py runs
    every builder's output through that validation, so a misspelt property still fails a test.
    """
    return go.Figure(data=data, layout=layout, _validate=False)
