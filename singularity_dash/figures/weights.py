"""28x28 images of one neuron: its weights, its contributions w*x, the input digit; and sorted weight bars."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from singularity_dash.errors import InputError
from singularity_dash.figures.assemble import build_figure
from singularity_dash.figures.colors import DIVERGING_SCALE, map_signed_colors

IMAGE_SIDE = 28
GRAYSCALE = [[0.0, "#000000"], [1.0, "#ffffff"]]
HIGHLIGHT_LINE = "#222222"


def _as_image(values, what: str) -> np.ndarray:
    """784 finite numbers reshaped to 28x28 (row 0 = top row of the digit), or InputError."""
    array = np.asarray(values, dtype=float).ravel()
    if array.size != IMAGE_SIDE * IMAGE_SIDE:
        raise InputError(f"{what} needs {IMAGE_SIDE * IMAGE_SIDE} values, got {array.size}")
    if not np.all(np.isfinite(array)):
        raise InputError(f"{what} contains NaN or infinite values")
    return array.reshape(IMAGE_SIDE, IMAGE_SIDE)


def _image_figure(z: np.ndarray, title: str, colorscale, zmin: float, zmax: float, hover: str, bar_title: str) -> go.Figure:
    """A square 28x28 heatmap with row 0 at the top, like the digit itself."""
    heatmap = {
        "type": "heatmap",
        "z": z,
        "colorscale": colorscale,
        "zmin": zmin,
        "zmax": zmax,
        "hovertemplate": f"row %{{y}}, col %{{x}}<br>{hover} = %{{z:.4f}}<extra></extra>",
        "colorbar": {"title": {"text": bar_title}, "thickness": 12},
    }
    layout = {
        "title": {"text": title},
        "xaxis": {"visible": False, "constrain": "domain"},
        "yaxis": {"visible": False, "autorange": "reversed", "scaleanchor": "x", "constrain": "domain"},
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
    }
    return build_figure([heatmap], layout)


def _symmetric_limit(z: np.ndarray) -> float:
    """max |z|, or 1 for an all-zero image, so 0 always sits at the scale's white centre."""
    return float(np.abs(z).max()) or 1.0


def build_weight_image(weights_784: np.ndarray, title: str) -> go.Figure:
    """Incoming weights of a first-layer neuron as a 28x28 image: what this neuron looks for."""
    z = _as_image(weights_784, "weight image")
    limit = _symmetric_limit(z)
    return _image_figure(z, title, DIVERGING_SCALE, -limit, limit, "w", "weight w")


def build_contribution_image(weights_784: np.ndarray, x_784: np.ndarray, title: str = "Contribution w·x") -> go.Figure:
    """w * x per pixel as a 28x28 image: where this input pushes the neuron up or down."""
    z = _as_image(weights_784, "weight image") * _as_image(x_784, "input image")
    limit = _symmetric_limit(z)
    return _image_figure(z, title, DIVERGING_SCALE, -limit, limit, "w·x", "w·x")


def build_digit_image(x_784: np.ndarray, title: str = "Input") -> go.Figure:
    """The 28x28 input in grayscale (0 = black background, 1 = white ink)."""
    z = _as_image(x_784, "input image")
    return _image_figure(z, title, GRAYSCALE, 0.0, 1.0, "x", "pixel")


def build_sorted_weights_bar(
    weights: np.ndarray, contributions: np.ndarray, labels, top: int = 20, title: str = "Incoming weights"
) -> go.Figure:
    """Incoming weights sorted from most positive to most negative; the `top` largest |w·a| outlined."""
    w = np.asarray(weights, dtype=float).ravel()
    c = np.asarray(contributions, dtype=float).ravel()
    labels = [str(label) for label in labels]
    if not (w.size == c.size == len(labels)) or w.size == 0:
        raise InputError(
            f"weights ({w.size}), contributions ({c.size}) and labels ({len(labels)}) must be equally long and non-empty"
        )
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(c))):
        raise InputError("weights or contributions contain NaN or infinite values")
    order = np.argsort(-w, kind="stable")
    n_top = min(max(int(top), 0), w.size)
    is_top = np.zeros(w.size, dtype=bool)
    if n_top:
        is_top[np.argsort(-np.abs(c), kind="stable")[:n_top]] = True
    w_sorted, c_sorted, top_sorted = w[order], c[order], is_top[order]
    bar = {
        "type": "bar",
        "x": np.asarray(labels)[order],  # arrays, not lists: the JSON encoder converts each in one call
        "y": w_sorted,
        "customdata": c_sorted,
        "marker": {
            "color": map_signed_colors(w_sorted, _symmetric_limit(w_sorted)),
            # Outline and full opacity mark the strongest contributors for this input.
            "opacity": np.where(top_sorted, 1.0, 0.35),
            "line": {"width": np.where(top_sorted, 2.0, 0.0), "color": HIGHLIGHT_LINE},
        },
        "hovertemplate": "%{x}<br>w = %{y:.4f}<br>w·a = %{customdata:.4f}<extra></extra>",
        "name": "weight",
    }
    layout = {
        "title": {"text": f"{title} (outlined: top {n_top} |w·a|)"},
        "xaxis": {"title": {"text": "source neuron"}, "type": "category", "tickangle": -60},
        "yaxis": {"title": {"text": "weight w"}, "zeroline": True},
        "margin": {"l": 50, "r": 10, "t": 40, "b": 60},
        "showlegend": False,
    }
    return build_figure([bar], layout)
