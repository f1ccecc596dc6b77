"""What the /xor page shows, as one serializable state (URL query <-> dataclass), plus XOR-specific helpers.

The helpers turn a Trace into the page's words (prediction, target) and into the per-step data of the
forward-pass animation that the browser plays without asking the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

import numpy as np

from singularity_dash.errors import InputError
from singularity_dash.figures.colors import SEQUENTIAL_LUT, compute_lut_indices
from singularity_dash.figures.network3d import NetworkLayout, compute_activation_range, compute_trace_index
from singularity_dash.notes import format_number
from singularity_dash.trace import Trace
from singularity_dash.xor_training import (
    INPUTS,
    TRUTH_TABLES,
    compute_trace_from_weights,
    config_from_store,
    snapshot_from_store,
)

PRETRAINED_ACTIVATION = "tanh"
PENDING_COLOR = "#d9d9d9"  # a neuron the animation has not reached yet
EDGE_OPACITY = 0.75  # the figure's resting edge opacity
EDGE_DIM_OPACITY = 0.08
EDGE_ACTIVE_OPACITY = 1.0


@dataclass(frozen=True)
class XorView:
    """The shareable part of the /xor page: the input, the selected neuron and the animation step."""

    x1: float = 1.0
    x2: float = 0.0
    neuron: tuple[int, int] | None = None  # (layer, index); layer 0 = inputs
    step: int | None = None  # None: the full, finished forward pass

    def to_query(self) -> str:
        """The URL query string for this view, e.g. "?x1=1&x2=0&neuron=1-0&step=3"."""
        params = {"x1": _short(self.x1), "x2": _short(self.x2)}
        if self.neuron is not None:
            params["neuron"] = f"{self.neuron[0]}-{self.neuron[1]}"
        if self.step is not None:
            params["step"] = str(int(self.step))
        return "?" + urlencode(params)

    @classmethod
    def from_query(cls, query) -> "XorView":
        """A view from a query dict (as Dash pages pass it) or a query string; InputError on bad values."""
        if isinstance(query, str):
            query = dict(parse_qsl(query.lstrip("?")))
        query = dict(query or {})
        x1 = _parse_unit(query.get("x1"), "x1", cls.x1)
        x2 = _parse_unit(query.get("x2"), "x2", cls.x2)
        neuron = parse_neuron(query.get("neuron"))
        step = query.get("step")
        if step in (None, ""):
            step = None
        else:
            try:
                step = int(step)
            except (TypeError, ValueError):
                raise InputError(f"step must be a whole number, got {step!r}") from None
            if step < 0:
                raise InputError(f"step must be 0 or more, got {step}")
        return cls(x1, x2, neuron, step)


def _short(value: float) -> str:
    """A number for the URL without trailing zeros ("1", "0.25")."""
    return format(round(float(value), 4), "g")


def _parse_unit(value, name: str, default: float) -> float:
    """A number in [0, 1] from the URL, the default when absent; InputError otherwise."""
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number between 0 and 1, got {value!r}") from None
    if not np.isfinite(number) or not 0.0 <= number <= 1.0:
        raise InputError(f"{name} must be between 0 and 1, got {value!r}")
    return number


def parse_neuron(value) -> tuple[int, int] | None:
    """(layer, index) from "1-0" (None when empty); InputError when it is not of that form."""
    if value in (None, ""):
        return None
    try:
        layer, index = (int(part) for part in str(value).split("-"))
    except ValueError:
        raise InputError(f"neuron must look like 'layer-index' (e.g. 1-0), got {value!r}") from None
    if layer < 0 or index < 0:
        raise InputError(f"neuron layer and index must be 0 or more, got {value!r}")
    return layer, index


def format_neuron(neuron: tuple[int, int] | None) -> str | None:
    """ "1-0" for (1, 0), None for no selection (the form kept in the page's Store)."""
    return None if neuron is None else f"{int(neuron[0])}-{int(neuron[1])}"


def validate_view_against(view: XorView, layer_sizes) -> XorView:
    """The view with a neuron that does not exist in this architecture dropped."""
    if view.neuron is None:
        return view
    layer, index = view.neuron
    if layer < len(layer_sizes) and index < layer_sizes[layer]:
        return view
    return XorView(view.x1, view.x2, None, view.step)


# --- words ----------------------------------------------------------------------------------------


def compute_truth_row(x1: float, x2: float) -> int | None:
    """Index 0-3 of the truth-table row (0,0), (0,1), (1,0), (1,1) the input is exactly on, else None."""
    point = np.array([float(x1), float(x2)])
    hits = np.nonzero(np.all(np.isclose(INPUTS, point), axis=1))[0]
    return int(hits[0]) if hits.size else None


def compute_table_name(targets) -> str:
    """ "XOR", "AND", ... for a known truth table, else "custom"."""
    t = tuple(int(v) for v in targets)
    for name, table in TRUTH_TABLES.items():
        if table == t:
            return name
    return "custom"


def compute_prediction_words(trace: Trace) -> str:
    """The network's answer in plain words, with its probability."""
    p = float(trace.probabilities[1])
    answer = "1 (true)" if trace.prediction == 1 else "0 (false)"
    return f"The network says {answer}: P(y = 1) = {format_number(p)}."


def compute_target_words(x1: float, x2: float, targets) -> str:
    """The target for the input when it is a truth-table row, else why there is none."""
    row = compute_truth_row(x1, x2)
    name = compute_table_name(targets)
    if row is None:
        return (f"Target: none, ({format_number(x1)}, {format_number(x2)}) is between the truth-table rows; "
                "see the output's response surface for what the network does here.")
    a, b = (int(v) for v in INPUTS[row])
    t = int(tuple(targets)[row])
    return f"Target: {name}({a}, {b}) = {t} ({'true' if t else 'false'})."


def compute_is_correct(trace: Trace, x1: float, x2: float, targets) -> bool | None:
    """Whether the prediction equals the target (None when the input is not a truth-table row)."""
    row = compute_truth_row(x1, x2)
    if row is None:
        return None
    return int(trace.prediction) == int(tuple(targets)[row])


# --- forward-pass animation -------------------------------------------------------------------------


def _hex_colors(values: np.ndarray, cmin: float, cmax: float) -> list[str]:
    """Sequential-scale hex colours, the same mapping plotly applies to the figure's numeric colours."""
    return SEQUENTIAL_LUT[compute_lut_indices(values, cmin, cmax)].tolist()


def _neuron_update(layout: NetworkLayout, trace: Trace, k: int, done: int, cmin: float, cmax: float,
                   final: bool) -> dict:
    """Marker colours and labels of layer k when its first `done` neurons are computed."""
    a = np.asarray(trace.activations[k], dtype=float)
    labels = list(layout.labels[k])
    if final:
        return {"marker.color": a.tolist(), "text": labels}
    colors = _hex_colors(a, cmin, cmax)
    n = a.shape[0]
    return {
        "marker.color": [colors[i] if i < done else PENDING_COLOR for i in range(n)],
        "text": [f"{labels[i]} = {format_number(a[i])}" if i < done else labels[i] for i in range(n)],
    }


def _edge_sentences(layout: NetworkLayout, trace: Trace, k: int) -> list[str]:
    """ "x1 -> h1: w * x1 = 0.52 * 1 = 0.52" for every edge into layer k."""
    weight = np.asarray(trace.layers[k - 1].weight, dtype=float)
    a_prev = np.asarray(trace.activations[k - 1], dtype=float)
    src, dst = layout.labels[k - 1], layout.labels[k]
    return [
        f"{src[j]} → {dst[i]}: w·{src[j]} = {format_number(weight[i, j])} × {format_number(a_prev[j])} "
        f"= {format_number(weight[i, j] * a_prev[j])}"
        for i in range(weight.shape[0]) for j in range(weight.shape[1])
    ]


def compute_neuron_formulas(layout: NetworkLayout, trace: Trace, k: int, i: int) -> list[str]:
    """The two lines a neuron computes, with its numbers: z = w1*x1 + ... + b = ..., a = act(z) = ..."""
    lt = trace.layers[k - 1]
    w = np.asarray(lt.weight[i], dtype=float)
    a_prev = np.asarray(trace.activations[k - 1], dtype=float)
    src = layout.labels[k - 1]
    name = layout.labels[k][i]
    symbolic = " + ".join(f"w{j + 1}·{src[j]}" for j in range(w.shape[0])) + " + b"
    numeric = " + ".join(f"({format_number(w[j])})({format_number(a_prev[j])})" for j in range(w.shape[0]))
    z, a = float(lt.z[i]), float(lt.a[i])
    return [
        f"{name}: z = {symbolic} = {numeric} + ({format_number(float(lt.bias[i]))}) = {format_number(z)}",
        f"{name}: a = {lt.activation}(z) = {lt.activation}({format_number(z)}) = {format_number(a)}",
    ]


def compute_animation_steps(layout: NetworkLayout, trace: Trace) -> dict:
    """Per-step figure updates and captions for the clientside forward-pass player.

    Steps: the inputs light up; per layer, the weighted inputs travel along its edges, then each neuron
    computes z and a in turn; the last step is the finished pass (the figure's resting look). Every
    step sets every animated property, so any step can be shown after any other.
    """
    if list(trace.layer_sizes) != list(layout.layer_sizes):
        raise InputError(f"trace sizes {trace.layer_sizes} do not match the layout {layout.layer_sizes}")
    index = compute_trace_index(layout)
    cmin, cmax = compute_activation_range(trace)
    n_layers = len(layout.layer_sizes)
    # progress per step: (layers fully done, neurons done in the next layer, layer whose edges glow)
    plan: list[tuple[int, int, int | None, str, list[str]]] = []
    x_words = ", ".join(f"{layout.labels[0][j]} = {format_number(v)}" for j, v in enumerate(trace.input.tolist()))
    plan.append((1, 0, None, "1. The inputs light up", [x_words]))
    for k in range(1, n_layers):
        name = layout.layer_names[k]
        plan.append((k, 0, k, f"{len(plan) + 1}. Weighted inputs travel to the {name} layer",
                     _edge_sentences(layout, trace, k)))
        for i in range(layout.layer_sizes[k]):
            plan.append((k, i + 1, k, f"{len(plan) + 1}. {name} neuron {layout.labels[k][i]} computes",
                         compute_neuron_formulas(layout, trace, k, i)))
    p = float(trace.probabilities[1]) if trace.probabilities.shape[0] == 2 else float(trace.probabilities.max())
    plan.append((n_layers, 0, None, f"{len(plan) + 1}. Done: the prediction",
                 [f"The network says {trace.prediction} (P(y = 1) = {format_number(p)})."]))
    updates, captions = [], []
    last = len(plan) - 1
    for s, (full_layers, partial, glow, title, lines) in enumerate(plan):
        final = s == last
        step_update: dict[str, dict] = {}
        for k in range(n_layers):
            if k < full_layers:
                done = layout.layer_sizes[k]
            elif k == full_layers:
                done = partial
            else:
                done = 0
            step_update[str(index.neurons[k])] = _neuron_update(layout, trace, k, done, cmin, cmax, final)
        for k, bucket_traces in enumerate(index.edges, start=1):
            if final:
                opacity = EDGE_OPACITY
            elif glow == k:
                opacity = EDGE_ACTIVE_OPACITY
            elif k < full_layers or (k == full_layers and partial > 0):
                opacity = EDGE_OPACITY
            else:
                opacity = EDGE_DIM_OPACITY
            for trace_i in bucket_traces:
                step_update[str(trace_i)] = {"opacity": opacity}
        updates.append(step_update)
        captions.append({"title": title, "lines": lines})
    return {"updates": updates, "captions": captions, "count": len(plan)}


def compute_step_count(layer_sizes) -> int:
    """How many animation steps a network of these sizes has (see compute_animation_steps)."""
    sizes = list(layer_sizes)
    return 1 + sum(1 + n for n in sizes[1:]) + 1


# --- which network is shown ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkState:
    """The parameters the page shows: the committed model, or a snapshot of the browser's own run."""

    weights: tuple[np.ndarray, np.ndarray]
    biases: tuple[np.ndarray, np.ndarray]
    activation: str
    targets: tuple[int, int, int, int]
    label: str
    trained_here: bool

    @property
    def layer_sizes(self) -> tuple[int, int, int]:
        """(2, H, 1)."""
        return 2, int(self.weights[0].shape[0]), 1


def compute_network_state(model_store: dict | None, snapshot_index, service) -> NetworkState:
    """Which weights to show: the browser-trained snapshot when a run is stored, else the committed model."""
    if model_store:
        config = config_from_store(model_store)
        snap = snapshot_from_store(model_store, snapshot_index)
        name = compute_table_name(config.targets)
        label = (f"Your 2-{config.hidden_size}-1 {config.activation} network trained on {name}, "
                 f"epoch {snap.epoch} of {config.epochs} (loss {format_number(snap.loss)})")
        return NetworkState(snap.weights, snap.biases, config.activation, config.targets, label, True)
    loaded = service.loaded("xor")
    return NetworkState(
        (np.asarray(loaded.weights[0]), np.asarray(loaded.weights[1])),
        (np.asarray(loaded.biases[0]), np.asarray(loaded.biases[1])),
        PRETRAINED_ACTIVATION, TRUTH_TABLES["XOR"],
        "The pretrained 2-2-1 tanh network (trained on XOR with PyTorch)", False,
    )


def compute_trace(state: NetworkState, x1: float, x2: float, service) -> Trace:
    """The forward pass of (x1, x2): the service for the committed model, numpy for a browser-trained one."""
    if state.trained_here:
        return compute_trace_from_weights(state.weights, state.biases, state.activation, [x1, x2])
    return service.forward("xor", [float(x1), float(x2)])
