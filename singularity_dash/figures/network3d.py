"""The 3D network view: neuron geometry per architecture, the full figure, and per-input patches.

Trace order (stable; pages patch traces by index, see `compute_trace_index`):

    0 .. L-1                  neuron markers, one trace per layer; trace k is layer k (0 = input)
    L .. L + 3(L-1) - 1       edges into layer k (k = 1 .. L-1), three traces each by |w| bucket
                              ("thin", "medium", "thick"), in that order
    next                      SELECTED_EDGES_NAME: every incoming edge of the selected neuron
    next                      SELECTED_NEURON_NAME: a ring around the selected neuron
    last len(LEGEND_ENTRIES)  legend-only swatches explaining edge colour and width

Geometry (neuron x/y/z) is sent once with the figure; updates never resend it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import dash
import numpy as np
import plotly.graph_objects as go

from singularity_dash.errors import InputError
from singularity_dash.figures.assemble import build_figure
from singularity_dash.figures.colors import (
    NEGATIVE_COLOR,
    POSITIVE_COLOR,
    SEQUENTIAL_SCALE,
    map_signed_colors,
)
from singularity_dash.trace import Trace

EDGE_BUCKETS = ("thin", "medium", "thick")
EDGE_WIDTHS = (1.5, 3.5, 6.5)  # px; Scatter3d lines take one width per trace, hence the buckets
SELECTED_EDGE_WIDTH = 4.0
SELECTED_EDGES_NAME = "selected: incoming edges"
SELECTED_NEURON_NAME = "selected: neuron"
LEGEND_ENTRIES = (
    ("edge colour: w > 0", POSITIVE_COLOR, EDGE_WIDTHS[1]),
    ("edge colour: w < 0", NEGATIVE_COLOR, EDGE_WIDTHS[1]),
    ("edge width: |w| small", "#888888", EDGE_WIDTHS[0]),
    ("edge width: |w| medium", "#888888", EDGE_WIDTHS[1]),
    ("edge width: |w| large", "#888888", EDGE_WIDTHS[2]),
)
COMPACT_MAX_LAYER = 32  # nets whose layers are all this small get every edge and every label drawn
LAYER_GAP_COMPACT = 1.6
LAYER_GAP_GRID = 22.0
HIGHLIGHT_COLOR = "#ff00aa"  # magenta: absent from both scales, so the selection always stands out


@dataclass(frozen=True, eq=False)
class NetworkLayout:
    """Where every neuron sits, what it is called, and how big its marker may get; one per architecture."""

    layer_sizes: tuple[int, ...]
    layer_names: tuple[str, ...]
    x: tuple[np.ndarray, ...]
    y: tuple[np.ndarray, ...]
    z: tuple[np.ndarray, ...]
    labels: tuple[tuple[str, ...], ...]
    marker_size_range: tuple[tuple[float, float], ...]  # (size at a = 0, size at the largest |a|)
    show_text: tuple[bool, ...]  # draw the labels next to the markers
    compact: bool  # small net: all edges drawn, every neuron labelled

    @property
    def neuron_count(self) -> int:
        """Total number of neurons (markers) over all layers."""
        return int(sum(self.layer_sizes))


@dataclass(frozen=True)
class TraceIndex:
    """Index of every trace in the network figure, for patching by index."""

    neurons: tuple[int, ...]  # per layer
    edges: tuple[tuple[int, int, int], ...]  # per layer k >= 1 (entry k-1): thin, medium, thick
    selected_edges: int
    selected_neuron: int
    legend: tuple[int, ...]
    names: tuple[str, ...]  # name of every trace, in order


def _layer_names(n_layers: int) -> tuple[str, ...]:
    """Names matching ModelSpec.layer_names, with "input" first."""
    hidden = n_layers - 2
    return ("input",) + tuple(f"hidden {i + 1}" for i in range(hidden)) + ("output",)


def _labels(layer_sizes: tuple[int, ...], compact: bool) -> tuple[tuple[str, ...], ...]:
    """Neuron labels: x1.., h1.. (h<k>.<i> with several hidden layers), y / y0.. or class digits."""
    n_hidden = len(layer_sizes) - 2
    labels = []
    n_in = layer_sizes[0]
    side = math.isqrt(n_in)
    if not compact and side * side == n_in:
        labels.append(tuple(f"pixel ({r}, {c})" for r in range(side) for c in range(side)))
    else:
        labels.append(tuple(f"x{i + 1}" for i in range(n_in)))
    for k in range(1, n_hidden + 1):
        prefix = "h" if n_hidden == 1 else f"h{k}."
        labels.append(tuple(f"{prefix}{i + 1}" for i in range(layer_sizes[k])))
    n_out = layer_sizes[-1]
    if n_out == 1:
        labels.append(("y",))
    elif compact:
        labels.append(tuple(f"y{i}" for i in range(n_out)))
    else:
        labels.append(tuple(str(i) for i in range(n_out)))  # class names, e.g. digits 0-9
    return tuple(labels)


def _grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) of a layer's plane: a row for <= 16, a square when n is one, else about 2:1."""
    if n <= 16:
        return 1, n
    side = math.isqrt(n)
    if side * side == n:
        return side, side
    cols = math.ceil(math.sqrt(2 * n))
    return math.ceil(n / cols), cols


def _grid_positions(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(y, z) of n neurons on a centred grid, filled row by row with row 0 at the top."""
    rows, cols = _grid_shape(n)
    spacing = float(np.clip(24.0 / max(cols - 1, 1), 1.0, 3.0))
    index = np.arange(n)
    r, c = np.divmod(index, cols)
    y = (c - (cols - 1) / 2.0) * spacing
    z = ((rows - 1) / 2.0 - r) * spacing
    return y.astype(float), z.astype(float)


def _frozen(array: np.ndarray) -> np.ndarray:
    """Read-only float copy, rounded to 3 decimals so edge coordinates serialize short."""
    out = np.round(np.array(array, dtype=float), 3)
    out.setflags(write=False)
    return out


def _validate_sizes(layer_sizes: tuple[int, ...]) -> tuple[int, ...]:
    """Tuple of positive ints with at least an input and an output layer, or InputError."""
    try:
        sizes = tuple(int(n) for n in layer_sizes)
    except (TypeError, ValueError) as exc:
        raise InputError(f"layer sizes must be integers, got {layer_sizes!r}") from exc
    if len(sizes) < 2 or min(sizes) < 1:
        raise InputError(f"need at least two layers of at least one neuron each, got {sizes}")
    return sizes


def compute_layout(layer_sizes: tuple[int, ...] | list[int]) -> NetworkLayout:
    """Neuron positions, labels and marker sizes for an MLP of these sizes (cached per architecture)."""
    return _compute_layout_cached(_validate_sizes(tuple(layer_sizes)))


@lru_cache(maxsize=16)
def _compute_layout_cached(sizes: tuple[int, ...]) -> NetworkLayout:
    """Uncached body of compute_layout; the key is the validated tuple of sizes."""
    compact = max(sizes) <= COMPACT_MAX_LAYER
    xs, ys, zs, size_ranges, show_text = [], [], [], [], []
    for k, n in enumerate(sizes):
        if compact:
            # A classic left-to-right diagram: each layer a vertical column, first neuron on top.
            y = np.zeros(n)
            z = (n - 1) / 2.0 - np.arange(n, dtype=float)
            x = np.full(n, k * LAYER_GAP_COMPACT)
            size_ranges.append((14.0, 30.0))
            show_text.append(True)
        else:
            y, z = _grid_positions(n)
            x = np.full(n, k * LAYER_GAP_GRID)
            size_ranges.append((2.5, 6.0) if n >= 400 else (4.0, 10.0) if n > 16 else (8.0, 18.0))
            show_text.append(n <= 16)
        xs.append(_frozen(x))
        ys.append(_frozen(y))
        zs.append(_frozen(z))
    return NetworkLayout(
        layer_sizes=sizes,
        layer_names=_layer_names(len(sizes)),
        x=tuple(xs),
        y=tuple(ys),
        z=tuple(zs),
        labels=_labels(sizes, compact),
        marker_size_range=tuple(size_ranges),
        show_text=tuple(show_text),
        compact=compact,
    )


def compute_trace_index(layout: NetworkLayout) -> TraceIndex:
    """Where each trace of the network figure sits (see the module docstring for the order)."""
    n_layers = len(layout.layer_sizes)
    names = [f"neurons: {name}" for name in layout.layer_names]
    edges = []
    for k in range(1, n_layers):
        start = len(names)
        edges.append((start, start + 1, start + 2))
        src, dst = layout.layer_names[k - 1], layout.layer_names[k]
        names.extend(f"edges: {src} → {dst} ({bucket})" for bucket in EDGE_BUCKETS)
    selected_edges = len(names)
    names.append(SELECTED_EDGES_NAME)
    selected_neuron = len(names)
    names.append(SELECTED_NEURON_NAME)
    legend = tuple(range(len(names), len(names) + len(LEGEND_ENTRIES)))
    names.extend(entry[0] for entry in LEGEND_ENTRIES)
    return TraceIndex(
        neurons=tuple(range(n_layers)),
        edges=tuple(edges),
        selected_edges=selected_edges,
        selected_neuron=selected_neuron,
        legend=legend,
        names=tuple(names),
    )


def _check_inputs(layout: NetworkLayout, trace: Trace, selection, edges_per_neuron: int):
    """Validate the trace against the layout and normalise the selection to (layer, index) or None."""
    if list(trace.layer_sizes) != list(layout.layer_sizes):
        raise InputError(
            f"trace has layer sizes {tuple(trace.layer_sizes)}, the layout expects {layout.layer_sizes}"
        )
    if int(edges_per_neuron) < 1:
        raise InputError(f"edges_per_neuron must be at least 1, got {edges_per_neuron}")
    if selection is None:
        return None
    try:
        layer, index = (int(v) for v in selection)
    except (TypeError, ValueError) as exc:
        raise InputError(f"selection must be (layer, index), got {selection!r}") from exc
    if not 0 <= layer < len(layout.layer_sizes) or not 0 <= index < layout.layer_sizes[layer]:
        raise InputError(f"no neuron {index} in layer {layer} of a {layout.layer_sizes} network")
    return layer, index


def compute_top_edges(weight: np.ndarray, a_prev: np.ndarray, k: int) -> np.ndarray:
    """(n_out, min(k, n_in)) source indices of each neuron's largest incoming |w_ij * a_j|."""
    n_out, n_in = weight.shape
    if k >= n_in:
        return np.broadcast_to(np.arange(n_in), (n_out, n_in))
    # Only sources with a_j != 0 can carry weight (most pixels and many ReLU units are 0), so the
    # search runs over those columns alone when there are at least k of them.
    active = np.flatnonzero(a_prev)
    if active.size < k:
        active = np.arange(n_in)
    magnitude = np.abs(weight[:, active] * a_prev[active])
    # argpartition is O(n) per row; the k winners come back unordered, which is all we need.
    return active[np.argpartition(-magnitude, k - 1, axis=1)[:, :k]]


def compute_largest_weight(weight: np.ndarray) -> float:
    """max |w| of a layer, without a temporary |w| array."""
    return float(max(weight.max(initial=0.0), -weight.min(initial=0.0)))


def compute_width_buckets(w: np.ndarray, w_max: float) -> np.ndarray:
    """Bucket 0/1/2 (thin/medium/thick) per weight: thirds of the layer's largest |w|."""
    if w_max <= 0:
        return np.zeros(np.shape(w), dtype=np.intp)
    return np.minimum((3.0 * np.abs(w) / w_max).astype(np.intp), len(EDGE_BUCKETS) - 1)


def compute_edge_colors(w: np.ndarray, w_max: float) -> np.ndarray:
    """Hex colour per weight on the diverging scale; sign always readable, depth grows with |w|."""
    scale = w_max if w_max > 0 else 1.0
    # Start at 45% of the scale so a small weight's sign still shows (pure 0 stays neutral).
    value = np.sign(w) * (0.45 + 0.55 * np.abs(w) / scale)
    return map_signed_colors(value, 1.0)


def _segments(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """[s0, e0, NaN, s1, e1, NaN, ...]: many line segments in one trace (NaN is sent as null, a gap).

    Numeric float32 arrays, not lists: the JSON encoder writes them in C with no Python object per
    point, and a figure's base64 arrays take 4 bytes per number.
    """
    out = np.full(3 * len(start), np.nan, dtype=np.float32)
    out[0::3] = start
    out[1::3] = end
    return out


def _edge_props(layout: NetworkLayout, k: int, src: np.ndarray, dst: np.ndarray, colors: np.ndarray) -> dict:
    """x/y/z (None-separated) and per-point line colours for edges layer k-1 -> layer k."""
    return {
        "x": _segments(layout.x[k - 1][src], layout.x[k][dst]),
        "y": _segments(layout.y[k - 1][src], layout.y[k][dst]),
        "z": _segments(layout.z[k - 1][src], layout.z[k][dst]),
        "line.color": np.repeat(colors, 3),
    }


def _neuron_customdata(trace: Trace, k: int) -> np.ndarray:
    """Per neuron [layer, index, value] (inputs) or [layer, index, z, a]: clicks read the first two,
    the hover template the rest. Numbers, not text, keep a new input's update small."""
    if k == 0:
        values = [np.round(np.asarray(trace.input, dtype=float), 4)]
    else:
        layer = trace.layers[k - 1]
        values = [np.round(np.asarray(layer.z, dtype=float), 4), np.round(np.asarray(layer.a, dtype=float), 4)]
    n = values[0].shape[0]
    return np.column_stack([np.full(n, k), np.arange(n), *values]).astype(np.float32)


def _neuron_hovertemplate(layer_name: str, k: int) -> str:
    """Hover lines: the neuron's label (its text) and, from customdata, its value or its z and a."""
    head = layer_name + " · %{text}<br>"
    if k == 0:
        return head + "value = %{customdata[2]:.4g}<extra></extra>"
    return head + "z = %{customdata[2]:.4g}<br>a = %{customdata[3]:.4g}<extra></extra>"


def compute_activation_range(trace: Trace) -> tuple[float, float]:
    """Shared (cmin, cmax) over every layer's activations, so colours compare across layers."""
    values = np.concatenate([np.asarray(a, dtype=float).ravel() for a in trace.activations])
    lo, hi = min(0.0, float(values.min())), float(values.max())
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def compute_marker_sizes(activation: np.ndarray, size_range: tuple[float, float]) -> np.ndarray:
    """Marker size per neuron, growing linearly with |a| (relative to max(1, the layer's largest |a|))."""
    lo, hi = size_range
    magnitude = np.abs(np.asarray(activation, dtype=float))
    # Bounded activations (inputs, tanh, sigmoid, softmax) are sized absolutely; unbounded ReLU
    # layers relative to their own peak so they neither swamp the view nor vanish.
    scale = max(1.0, float(magnitude.max(initial=0.0)))
    return lo + (hi - lo) * magnitude / scale


def compute_network_update(
    layout: NetworkLayout, trace: Trace, selection=None, edges_per_neuron: int = 3
) -> dict[int, dict[str, object]]:
    """Everything that changes with input / selection / checkpoint: {trace index: {dotted prop: value}}."""
    selection = _check_inputs(layout, trace, selection, edges_per_neuron)
    index = compute_trace_index(layout)
    activations = [np.asarray(a, dtype=float) for a in trace.activations]
    cmin, cmax = compute_activation_range(trace)
    update: dict[int, dict[str, object]] = {}

    for k, a in enumerate(activations):
        update[index.neurons[k]] = {
            "marker.color": np.round(a, 4).astype(np.float32),
            "marker.cmin": cmin,
            "marker.cmax": cmax,
            "marker.size": np.round(compute_marker_sizes(a, layout.marker_size_range[k]), 2).astype(np.float32),
            "customdata": _neuron_customdata(trace, k),
        }

    for k in range(1, len(layout.layer_sizes)):
        weight = np.asarray(trace.layers[k - 1].weight)  # as stored (float32): no copy per request
        n_out, n_in = weight.shape
        per_neuron = n_in if layout.compact else int(edges_per_neuron)
        src = compute_top_edges(weight, activations[k - 1], per_neuron).ravel()
        dst = np.repeat(np.arange(n_out), min(per_neuron, n_in))
        w = weight[dst, src].astype(float)
        w_max = compute_largest_weight(weight)
        buckets = compute_width_buckets(w, w_max)
        colors = compute_edge_colors(w, w_max)
        for b, trace_i in enumerate(index.edges[k - 1]):
            keep = buckets == b
            update[trace_i] = _edge_props(layout, k, src[keep], dst[keep], colors[keep])

    update.update(_selection_props(layout, trace, selection))
    return update


def compute_selection_update(layout: NetworkLayout, trace: Trace, selection=None) -> dict[int, dict[str, object]]:
    """Only the selected neuron's ring and incoming edges (what a new selection changes)."""
    selection = _check_inputs(layout, trace, selection, edges_per_neuron=1)  # no top edges are drawn here
    return _selection_props(layout, trace, selection)


def _selection_props(layout: NetworkLayout, trace: Trace, selection) -> dict[int, dict[str, object]]:
    """{trace index: props} of the ring and incoming edges for a checked selection (or None)."""
    index = compute_trace_index(layout)
    if selection is None:
        ring = {"x": [], "y": [], "z": [], "hovertext": []}
    else:
        layer, i = selection
        ring = {
            "x": [float(layout.x[layer][i])],
            "y": [float(layout.y[layer][i])],
            "z": [float(layout.z[layer][i])],
            "hovertext": [f"selected: {layout.layer_names[layer]} · {layout.labels[layer][i]}"],
        }
    return {index.selected_edges: _selected_edge_props(layout, trace, selection), index.selected_neuron: ring}


def _selected_edge_props(layout: NetworkLayout, trace: Trace, selection) -> dict:
    """Every incoming edge of the selected neuron (none for an input neuron or no selection)."""
    if selection is None or selection[0] == 0:
        return {"x": [], "y": [], "z": [], "line.color": []}
    layer, i = selection
    weight = np.asarray(trace.layers[layer - 1].weight)
    w = weight[i].astype(float)
    src = np.arange(w.shape[0])
    dst = np.full(w.shape[0], i)
    return _edge_props(layout, layer, src, dst, compute_edge_colors(w, compute_largest_weight(weight)))


def _nest(props: dict[str, object]) -> dict:
    """{"marker.color": v} -> {"marker": {"color": v}} for plotly constructors."""
    nested: dict = {}
    for path, value in props.items():
        node = nested
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return nested


def _scene_ranges(layout: NetworkLayout) -> dict:
    """Axis ranges with padding and an aspect ratio that never collapses a flat axis."""
    extents, ranges = [], {}
    for axis, coords in (("x", layout.x), ("y", layout.y), ("z", layout.z)):
        values = np.concatenate(coords)
        lo, hi = float(values.min()), float(values.max())
        pad = max(0.08 * (hi - lo), 0.8)
        ranges[axis] = (lo - pad, hi + pad)
        extents.append(hi - lo + 2 * pad)
    biggest = max(extents)
    ratio = {axis: max(e / biggest, 0.35) for axis, e in zip("xyz", extents)}
    return {"ranges": ranges, "aspect": ratio}


def _default_eye(layout: NetworkLayout) -> dict:
    """Initial camera: nearly head-on for a small diagram, three-quarter view for stacked planes."""
    return {"x": -0.3, "y": -1.35, "z": 0.35} if layout.compact else {"x": -1.1, "y": -1.25, "z": 0.55}


def build_network_figure(
    layout: NetworkLayout, trace: Trace, selection=None, edges_per_neuron: int = 3
) -> go.Figure:
    """The full 3D network figure: geometry, labels, legend, plus the current input's update."""
    update = compute_network_update(layout, trace, selection, edges_per_neuron)
    index = compute_trace_index(layout)
    data: list[dict] = []

    for k in range(len(layout.layer_sizes)):
        marker = {
            "colorscale": SEQUENTIAL_SCALE,
            "line": {"width": 0},
            "opacity": 1.0,
            "showscale": k == 0,  # one colorbar explains the shared activation scale
        }
        if k == 0:
            marker["colorbar"] = {"title": {"text": "activation a"}, "thickness": 12, "len": 0.5}
        data.append(
            {
                "type": "scatter3d",
                "name": index.names[index.neurons[k]],
                "mode": "markers+text" if layout.show_text[k] else "markers",
                "x": layout.x[k],
                "y": layout.y[k],
                "z": layout.z[k],
                "text": list(layout.labels[k]),  # shown beside small layers, always used by the hover
                "textposition": "top center",
                "hovertemplate": _neuron_hovertemplate(layout.layer_names[k], k),
                "marker": marker,
                "showlegend": False,
            }
        )

    for k, bucket_traces in enumerate(index.edges, start=1):
        for b, trace_i in enumerate(bucket_traces):
            data.append(
                {
                    "type": "scatter3d",
                    "name": index.names[trace_i],
                    "mode": "lines",
                    "line": {"width": EDGE_WIDTHS[b]},
                    "opacity": 0.75,
                    "hoverinfo": "skip",
                    "showlegend": False,
                }
            )

    data.append(
        {
            "type": "scatter3d",
            "name": SELECTED_EDGES_NAME,
            "mode": "lines",
            "line": {"width": SELECTED_EDGE_WIDTH},
            "hoverinfo": "skip",  # the inspector lists every incoming contribution
            "showlegend": False,
        }
    )
    data.append(
        {
            "type": "scatter3d",
            "name": SELECTED_NEURON_NAME,
            "mode": "markers",
            "marker": {
                "symbol": "circle-open",
                "size": max(hi for _, hi in layout.marker_size_range) + 6,
                "color": HIGHLIGHT_COLOR,
                "line": {"width": 4, "color": HIGHLIGHT_COLOR},
            },
            "hoverinfo": "text",
            "showlegend": False,
        }
    )
    for name, color, width in LEGEND_ENTRIES:
        # [None] keeps an empty trace's legend entry visible (empty arrays would hide it).
        data.append(
            {
                "type": "scatter3d",
                "name": name,
                "mode": "lines",
                "x": [None],
                "y": [None],
                "z": [None],
                "line": {"color": color, "width": width},
                "hoverinfo": "skip",
                "showlegend": True,
            }
        )

    for trace_i, props in update.items():
        if "customdata" in props:
            # As nested lists, not a 2D array: plotly.js decodes a 2D typed array into typed rows,
            # and a click's customdata must reach Dash as a plain [layer, index, ...] list.
            props = {**props, "customdata": props["customdata"].astype(float).round(4).tolist()}
        nested = _nest(props)
        for key, value in nested.items():
            if isinstance(value, dict):
                data[trace_i].setdefault(key, {}).update(value)
            else:
                data[trace_i][key] = value

    scene = _scene_ranges(layout)
    hidden_axis = {"visible": False, "showspikes": False}
    fig_layout = {
        "uirevision": "network",  # constant: the camera stays where the user put it
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "hovermode": "closest",
        "clickmode": "event",
        "legend": {
            "itemclick": False,
            "itemdoubleclick": False,
            "x": 0.0,
            "y": 1.0,
            "bgcolor": "rgba(255,255,255,0.6)",
            "title": {"text": "neuron colour = activation a, size = |a|"},
        },
        "scene": {
            "uirevision": "network",
            "xaxis": {**hidden_axis, "range": scene["ranges"]["x"]},
            "yaxis": {**hidden_axis, "range": scene["ranges"]["y"]},
            "zaxis": {**hidden_axis, "range": scene["ranges"]["z"]},
            "aspectmode": "manual",
            "aspectratio": scene["aspect"],
            "camera": {"eye": _default_eye(layout)},
        },
    }
    return build_figure(data, fig_layout)  # thousands of edge colours: validation would dominate


def build_network_patch(
    layout: NetworkLayout, trace: Trace, selection=None, edges_per_neuron: int = 3
) -> dash.Patch:
    """A Patch with colours, sizes, hover data and edges for a new input / selection / checkpoint."""
    return build_patch_from_update(compute_network_update(layout, trace, selection, edges_per_neuron))


def build_patch_from_update(update: dict[int, dict[str, object]]) -> dash.Patch:
    """A figure Patch setting {trace index: {dotted property: value}} (e.g. a subset of an update)."""
    patch = dash.Patch()
    for trace_i, props in update.items():
        for path, value in props.items():
            node = patch["data"][trace_i]
            *parents, leaf = path.split(".")
            for key in parents:
                node = node[key]
            node[leaf] = value
    return patch
