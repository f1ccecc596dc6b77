"""Small 2D charts: class probabilities and the training loss curve."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from singularity_dash.errors import InputError
from singularity_dash.figures.colors import SEQUENTIAL_LUT

PREDICTION_COLOR = str(SEQUENTIAL_LUT[-1])  # bright end of the activation scale
OTHER_COLOR = "#b0b0b0"
TRUE_LABEL_LINE = "#d6604d"


def build_probability_bars(probabilities: np.ndarray, prediction: int, true_label: int | None = None) -> go.Figure:
    """One bar per class; the prediction filled bright, the true label (if known) outlined."""
    p = np.asarray(probabilities, dtype=float).ravel()
    if p.size == 0 or not np.all(np.isfinite(p)):
        raise InputError("probabilities must be a non-empty array of finite numbers")
    n = p.size
    for name, value in (("prediction", prediction), ("true label", true_label)):
        if value is not None and not 0 <= int(value) < n:
            raise InputError(f"{name} {value} is not a class of this model (0-{n - 1})")
    classes = np.arange(n)
    colors = np.where(classes == int(prediction), PREDICTION_COLOR, OTHER_COLOR)
    line_width = np.zeros(n)
    if true_label is not None:
        line_width[int(true_label)] = 3.0
    fig = go.Figure(
        go.Bar(
            x=[str(c) for c in classes],
            y=p,
            text=[f"{v:.0%}" if v >= 0.005 else "" for v in p],
            textposition="outside",
            marker={"color": colors.tolist(), "line": {"width": line_width, "color": TRUE_LABEL_LINE}},
            hovertemplate="class %{x}<br>P = %{y:.4f}<extra></extra>",
        )
    )
    title = f"Prediction: {int(prediction)}"
    if true_label is not None:
        title += f" (true label {int(true_label)}, outlined)"
    fig.update_layout(
        title={"text": title},
        xaxis={"title": {"text": "class"}, "type": "category"},
        yaxis={"title": {"text": "probability"}, "range": [0, 1.1]},
        margin={"l": 50, "r": 10, "t": 40, "b": 40},
        showlegend=False,
    )
    return fig


def build_loss_curve(losses) -> go.Figure:
    """Training loss per step (log scale once it spans more than a factor of 10)."""
    y = np.asarray(losses if losses is not None else [], dtype=float).ravel()
    if not np.all(np.isfinite(y)):
        raise InputError("losses contain NaN or infinite values (did training diverge?)")
    fig = go.Figure(
        go.Scatter(
            x=np.arange(1, y.size + 1),
            y=y,
            mode="lines+markers" if y.size <= 50 else "lines",
            hovertemplate="step %{x}<br>loss %{y:.4g}<extra></extra>",
            name="loss",
        )
    )
    log = y.size > 1 and y.min() > 0 and y.max() / y.min() > 10
    fig.update_layout(
        title={"text": "Training loss"},
        xaxis={"title": {"text": "step"}},
        yaxis={"title": {"text": "loss"}, "type": "log" if log else "linear"},
        margin={"l": 50, "r": 10, "t": 40, "b": 40},
        showlegend=False,
    )
    if y.size == 0:
        fig.add_annotation(text="no training steps yet", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return fig
