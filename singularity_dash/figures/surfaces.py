"""Response surfaces of a small 2-input MLP over the input square [0, 1]^2."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from singularity_dash.errors import InputError
from singularity_dash.figures.assemble import build_figure
from singularity_dash.figures.colors import SEQUENTIAL_SCALE

XOR_POINTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TARGET_COLORS = ("#2166ac", "#b2182b")  # target 0 blue, 1 red (diverging-scale ends)
TARGET_SYMBOLS = ("circle", "x")  # shape too, so the target reads without colour
CURRENT_COLOR = "#ff00aa"
CURRENT_INPUT_TRACE = 2  # index of the "current input" star in a surface figure (after heatmap and corners)


def _apply(name: str, z: np.ndarray) -> np.ndarray:
    """Activation `name` applied element-wise (softmax over the last axis)."""
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        # Split by sign so large |z| never overflows exp.
        out = np.empty_like(z)
        pos = z >= 0
        out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
        ez = np.exp(z[~pos])
        out[~pos] = ez / (1.0 + ez)
        return out
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise InputError(f"unknown activation {name!r}; use tanh, sigmoid, relu or softmax")


def compute_grid(resolution: int) -> np.ndarray:
    """The `resolution` evenly spaced values from 0 to 1 used along both input axes."""
    return np.linspace(0.0, 1.0, resolution)


def compute_response_surfaces(weights, biases, activations, resolution: int = 41) -> list[np.ndarray]:
    """Activation of every hidden and output neuron over the grid: surface[r, c] is at x1=grid[c], x2=grid[r]."""
    weights = [np.asarray(w, dtype=float) for w in weights]
    biases = [np.asarray(b, dtype=float).ravel() for b in biases]
    activations = list(activations)
    if not (len(weights) == len(biases) == len(activations)) or not weights:
        raise InputError("need one weight matrix, bias vector and activation name per layer")
    if int(resolution) < 2:
        raise InputError(f"resolution must be at least 2, got {resolution}")
    n_in = 2
    for k, (w, b) in enumerate(zip(weights, biases)):
        if w.ndim != 2 or w.shape[1] != n_in or b.shape[0] != w.shape[0]:
            raise InputError(f"layer {k + 1}: weight {w.shape} / bias {b.shape} do not fit {n_in} inputs")
        n_in = w.shape[0]
    grid = compute_grid(int(resolution))
    x1, x2 = np.meshgrid(grid, grid)  # rows follow x2, columns follow x1
    a = np.column_stack([x1.ravel(), x2.ravel()])
    surfaces = []
    for w, b, name in zip(weights, biases, activations):
        a = _apply(name, a @ w.T + b)
        surfaces.extend(a[:, j].reshape(x1.shape) for j in range(a.shape[1]))
    return surfaces


def build_surface_figure(surface: np.ndarray, title: str, current_input=None, targets=None, value_range=None,
                         layout=None) -> go.Figure:
    """Heatmap of one neuron over [0,1]^2, XOR corners and current input marked; `layout` keys replace the defaults'."""
    z = np.asarray(surface, dtype=float)
    if z.ndim != 2 or z.shape[0] != z.shape[1] or z.shape[0] < 2:
        raise InputError(f"surface must be a square 2D grid, got shape {z.shape}")
    grid = compute_grid(z.shape[0])
    zmin, zmax = value_range if value_range is not None else (float(z.min()), float(z.max()))
    if targets is not None:
        t = np.asarray(targets).ravel().astype(int)
        if t.size != 4 or not np.isin(t, (0, 1)).all():
            raise InputError(f"targets must be four 0/1 values for (0,0), (0,1), (1,0), (1,1), got {targets!r}")
        colors = [TARGET_COLORS[v] for v in t]
        symbols = [TARGET_SYMBOLS[v] for v in t]
        text = [f"target {v}" for v in t]
    else:
        colors, symbols, text = ["#ffffff"] * 4, ["circle"] * 4, [""] * 4
    # Plain dicts in one build: add_trace/update_layout chains cost several times more.
    data = [
        {
            "type": "heatmap",
            "x": grid,
            "y": grid,
            "z": z,
            "zmin": zmin,
            "zmax": zmax if zmax > zmin else zmin + 1.0,
            "colorscale": SEQUENTIAL_SCALE,
            "colorbar": {"title": {"text": "a"}, "thickness": 12},
            "hovertemplate": "x1 = %{x:.2f}, x2 = %{y:.2f}<br>a = %{z:.4f}<extra></extra>",
            "name": "activation",
        },
        {
            "type": "scatter",
            "x": XOR_POINTS[:, 0],
            "y": XOR_POINTS[:, 1],
            "mode": "markers",
            "name": "XOR points",
            "text": text,
            "marker": {"size": 14, "color": colors, "symbol": symbols, "line": {"width": 2, "color": "#000000"}},
            "hovertemplate": "(%{x:.0f}, %{y:.0f}) %{text}<extra></extra>",
            "cliponaxis": False,
        },
    ]
    if current_input is not None:
        point = np.asarray(current_input, dtype=float).ravel()
        if point.size != 2 or not np.all(np.isfinite(point)):
            raise InputError(f"current input must be two numbers (x1, x2), got {current_input!r}")
        data.append(
            {
                "type": "scatter",
                "x": [point[0]],
                "y": [point[1]],
                "mode": "markers",
                "name": "current input",
                "marker": {"size": 16, "symbol": "star", "color": CURRENT_COLOR,
                           "line": {"width": 1, "color": "#000000"}},
                "hovertemplate": "current input (%{x:.2f}, %{y:.2f})<extra></extra>",
                "cliponaxis": False,
            }
        )
    figure_layout = {
        "title": {"text": title},
        "xaxis": {"title": {"text": "x1"}, "range": [-0.05, 1.05], "constrain": "domain"},
        "yaxis": {"title": {"text": "x2"}, "range": [-0.05, 1.05], "scaleanchor": "x", "constrain": "domain"},
        "legend": {"orientation": "h", "y": -0.2},
        "margin": {"l": 40, "r": 10, "t": 40, "b": 40},
        **(layout or {}),  # the caller's size and margins, without a second (costly) update_layout pass
    }
    return build_figure(data, figure_layout)
