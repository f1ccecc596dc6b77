"""Plain-words notes on layers and neurons (text only, no Dash): what a layer computes, what a neuron did."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from singularity_dash.errors import InputError
from singularity_dash.trace import Trace

SIGNIFICANT_DIGITS = 4
# |z| beyond which the squashing functions are flat enough to call "saturated"
# (tanh(2) = 0.964, sigmoid(4) = 0.982).
SATURATION_Z = {"tanh": 2.0, "sigmoid": 4.0}

ACTIVATION_NAMES = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid", "softmax": "softmax"}
ACTIVATION_FORMULAS = {
    "relu": "ReLU(z) = max(0, z)",
    "tanh": "tanh(z) = (e^z - e^-z) / (e^z + e^-z)",
    "sigmoid": "sigmoid(z) = 1 / (1 + e^-z)",
    "softmax": "softmax(z)_i = e^(z_i) / sum_j e^(z_j)",
}
ACTIVATION_LATEX = {
    "relu": r"\mathrm{ReLU}(z) = \max(0, z)",
    "tanh": r"\tanh(z) = \frac{e^{z} - e^{-z}}{e^{z} + e^{-z}}",
    "sigmoid": r"\sigma(z) = \frac{1}{1 + e^{-z}}",
    "softmax": r"\mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}",
}
ACTIVATION_WORDS = {
    "relu": "ReLU keeps a positive z as it is and turns a negative z into 0, so each neuron either "
    "fires (a = z) or stays silent (a = 0).",
    "tanh": "tanh squashes z into the range -1 to 1: near z = 0 it is almost a straight line, and for "
    "large |z| it flattens out (saturates) at -1 or +1.",
    "sigmoid": "sigmoid squashes z into the range 0 to 1, so a can be read as a probability; for large "
    "|z| it flattens out (saturates) at 0 or 1.",
    "softmax": "softmax turns the layer's scores z into probabilities that are all positive and add up "
    "to 1; the neuron with the largest z gets the largest share.",
}


@dataclass(frozen=True)
class LayerNote:
    """What one layer is and computes, in words and formulas."""

    index: int  # 0 = input layer
    title: str  # "Layer 1: hidden 1 (128 neurons, ReLU)"
    explanation: str  # plain words for a learner
    shape: str  # weight matrix shape "128 x 784"; the input layer gives its own shape ("784")
    n_neurons: int
    parameter_count: int  # weights + biases feeding this layer (0 for the input)
    activation: str | None  # None for the input layer
    formula: str  # plain text, e.g. "a = ReLU(W a_prev + b)"
    formula_latex: str
    activation_formula: str  # plain text, e.g. "ReLU(z) = max(0, z)"
    activation_latex: str


def format_number(value: float, digits: int = SIGNIFICANT_DIGITS) -> str:
    """Every number the UI shows, with `digits` significant digits ("0.6234", "-12.5", "1.235e+05")."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.{digits}g}"
    return "0" if text in ("-0", "0") else text


def round_significant(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """The float that `format_number` shows (same rounding), for tables that keep a numeric type."""
    value = float(value)
    if not math.isfinite(value):
        return value
    return float(format_number(value, digits))


def format_percent(probability: float) -> str:
    """A probability as a percentage with the same significant digits as every other number."""
    return f"{format_number(100.0 * float(probability))}%"


def compute_activation_name(activation: str) -> str:
    """Display name of an activation ("relu" -> "ReLU"); raises InputError if unknown."""
    try:
        return ACTIVATION_NAMES[activation]
    except KeyError:
        raise InputError(
            f"unknown activation {activation!r}; expected one of {sorted(ACTIVATION_NAMES)}"
        ) from None


def _image_side(n_inputs: int) -> int | None:
    """Side of the square image the input layer is a flattening of, or None for plain numbers."""
    side = math.isqrt(n_inputs)
    return side if side * side == n_inputs and n_inputs > 4 else None


def resolve_architecture(spec_or_sizes, activations=None) -> tuple[list[int], list[str] | None]:
    """Layer sizes (input first) and per-computing-layer activations from a ModelSpec, Trace or sizes."""
    if isinstance(spec_or_sizes, Trace):
        return spec_or_sizes.layer_sizes, list(activations or [l.activation for l in spec_or_sizes.layers])
    if hasattr(spec_or_sizes, "layer_sizes"):
        sizes = list(spec_or_sizes.layer_sizes)
        if activations is None:
            activations = list(getattr(spec_or_sizes, "layer_activations", []) or []) or None
    else:
        sizes = spec_or_sizes
    try:
        sizes = [int(s) for s in sizes]
    except (TypeError, ValueError):
        raise InputError(f"layer sizes must be a list of positive integers, got {spec_or_sizes!r}") from None
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise InputError(f"need at least an input and an output layer of positive size, got {sizes}")
    if activations is not None:
        activations = list(activations)
        if len(activations) != len(sizes) - 1:
            raise InputError(
                f"need one activation per computing layer ({len(sizes) - 1}), got {len(activations)}"
            )
        for act in activations:
            compute_activation_name(act)
    return sizes, activations


def compute_layer_name(n_layers: int, layer: int) -> str:
    """Name of layer `layer` in a net with `n_layers` layers counting the input: input, hidden k, output."""
    if layer == 0:
        return "input"
    return "output" if layer == n_layers - 1 else f"hidden {layer}"


def compute_neuron_labels(layer_sizes: Sequence[int], layer: int) -> list[str]:
    """Default labels for the neurons of one layer: x1/x2 or pixel (r, c); h1 or h2.5; y or 0-9."""
    sizes = [int(s) for s in layer_sizes]
    if not 0 <= layer < len(sizes):
        raise InputError(f"layer must be between 0 and {len(sizes) - 1}, got {layer}")
    n = sizes[layer]
    if layer == 0:
        side = _image_side(n)
        if side is None:
            return [f"x{i + 1}" for i in range(n)]
        return [f"pixel ({i // side}, {i % side})" for i in range(n)]
    if layer == len(sizes) - 1:
        return ["y"] if n == 1 else [str(i) for i in range(n)]
    if len(sizes) == 3:  # one hidden layer: h1, h2, ... reads best
        return [f"h{i + 1}" for i in range(n)]
    return [f"h{layer}.{i + 1}" for i in range(n)]


def validate_neuron(trace: Trace, layer, index) -> tuple[int, int]:
    """(layer, index) as ints if they address a neuron of the trace; InputError otherwise."""
    sizes = trace.layer_sizes
    for name, value in (("layer", layer), ("neuron index", index)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise InputError(f"{name} must be an integer, got {value!r}")
    layer, index = int(layer), int(index)
    if not 0 <= layer < len(sizes):
        raise InputError(f"layer must be between 0 and {len(sizes) - 1}, got {layer}")
    if not 0 <= index < sizes[layer]:
        raise InputError(f"layer {layer} has {sizes[layer]} neurons (0 to {sizes[layer] - 1}), got index {index}")
    return layer, index


def _resolve_labels(trace: Trace, layer: int, labels) -> list[str]:
    """Caller's labels for a layer if given (checked for length), else the defaults."""
    n = trace.layer_sizes[layer]
    if labels is None:
        return compute_neuron_labels(trace.layer_sizes, layer)
    labels = [str(label) for label in labels]
    if len(labels) != n:
        raise InputError(f"layer {layer} has {n} neurons but {len(labels)} labels were given")
    return labels


def describe_layer(spec_or_sizes, layer_index: int, activation: str | None = None) -> LayerNote:
    """A LayerNote for layer `layer_index` (0 = input) of a ModelSpec, Trace or list of layer sizes."""
    sizes, activations = resolve_architecture(spec_or_sizes)
    if isinstance(layer_index, bool) or not isinstance(layer_index, (int, np.integer)):
        raise InputError(f"layer index must be an integer, got {layer_index!r}")
    k = int(layer_index)
    if not 0 <= k < len(sizes):
        raise InputError(f"layer index must be between 0 and {len(sizes) - 1}, got {k}")
    if k == 0:
        return _describe_input_layer(sizes[0], sizes[1])
    if activation is None:
        if activations is None:
            raise InputError(f"layer {k} needs an activation: pass one, or a model spec that names them")
        activation = activations[k - 1]
    act_name = compute_activation_name(activation)
    n_in, n_out = sizes[k - 1], sizes[k]
    name = compute_layer_name(len(sizes), k)
    is_output = k == len(sizes) - 1
    prev = "the input" if k == 1 else f"hidden layer {k - 1}"
    unit = "neuron" if n_out == 1 else "neurons"
    explanation = (
        f"{'Output layer' if is_output else f'Hidden layer {k}'}: {n_out} {unit}. Each neuron takes all "
        f"{n_in} values of {prev}, multiplies each by its own weight, adds them up together with a bias "
        f"to get z, then applies {act_name}. {ACTIVATION_WORDS[activation]}"
    )
    if is_output and activation == "softmax":
        explanation += (
            f" There is one output neuron per class ({n_out} classes); the biggest probability is the answer."
        )
    elif is_output and n_out == 1 and activation == "sigmoid":
        explanation += " The single output a is read as P(y = 1): above 0.5 the network answers 1, otherwise 0."
    latex_act = {"relu": r"\mathrm{ReLU}", "tanh": r"\tanh", "sigmoid": r"\sigma", "softmax": r"\mathrm{softmax}"}
    return LayerNote(
        index=k,
        title=f"Layer {k}: {name} ({n_out} {unit}, {act_name})",
        explanation=explanation,
        shape=f"{n_out} x {n_in}",
        n_neurons=n_out,
        parameter_count=n_in * n_out + n_out,
        activation=activation,
        formula=f"z = W a_prev + b  (W is {n_out} x {n_in}, b has {n_out}); a = {act_name}(z)",
        formula_latex=(
            rf"a^{{({k})}} = {latex_act[activation]}\left(W^{{({k})}} a^{{({k - 1})}} + b^{{({k})}}\right)"
        ),
        activation_formula=ACTIVATION_FORMULAS[activation],
        activation_latex=ACTIVATION_LATEX[activation],
    )


def _describe_input_layer(n_inputs: int, n_next: int) -> LayerNote:
    """The input layer's note: what the numbers are; it computes nothing."""
    side = _image_side(n_inputs)
    passes = f"It does no computing: it hands these numbers to each of the {n_next} neurons of the next layer."
    if side is not None:
        explanation = (
            f"The image: {side}x{side} pixels flattened to {n_inputs} numbers, row by row. Each number is a "
            f"pixel's brightness, from 0 (black background) to 1 (white ink). {passes}"
        )
        shape = f"{side} x {side} = {n_inputs}"
    elif n_inputs == 2:
        explanation = f"Two inputs x1, x2 (in the XOR truth table each is 0 or 1). {passes}"
        shape = "2"
    else:
        explanation = f"{n_inputs} input numbers x1 ... x{n_inputs}. {passes}"
        shape = str(n_inputs)
    return LayerNote(
        index=0,
        title=f"Layer 0: input ({n_inputs} numbers)",
        explanation=explanation,
        shape=shape,
        n_neurons=n_inputs,
        parameter_count=0,
        activation=None,
        formula="a = x (the input values, unchanged)",
        formula_latex=r"a^{(0)} = x",
        activation_formula="",
        activation_latex="",
    )


def describe_neuron(trace: Trace, layer: int, index: int, labels: Sequence[str] | None = None) -> str:
    """One or two sentences on what neuron (layer, index) does for this trace's input."""
    layer, index = validate_neuron(trace, layer, index)
    names = _resolve_labels(trace, layer, labels)
    if layer == 0:
        return _describe_input_neuron(trace, index, names[index])
    lt = trace.layers[layer - 1]
    compute_activation_name(lt.activation)
    z, a = float(lt.z[index]), float(lt.a[index])
    is_output = layer == len(trace.layers)
    if lt.activation == "softmax":
        return _describe_softmax_neuron(lt.z, lt.a, index, names)
    if is_output and lt.size == 1 and lt.activation == "sigmoid":
        verdict = "> 0.5, so the network says 1" if a > 0.5 else "<= 0.5, so the network says 0"
        return f"P(y=1) = sigmoid(z) = sigmoid({format_number(z)}) = {format_number(a)} {verdict}."
    if lt.activation == "relu":
        if z > 0:
            return f"z = {format_number(z)} > 0, so ReLU passes it on: this neuron fires (a = {format_number(a)})."
        if z == 0:
            return "z = 0 exactly, so ReLU outputs 0: this neuron is silent for this input."
        return (
            f"z = {format_number(z)} is negative, so ReLU outputs 0: this neuron is silent for this input "
            f"and passes nothing on to the next layer."
        )
    return _describe_squashing_neuron(lt.activation, z, a)


def _describe_input_neuron(trace: Trace, index: int, label: str) -> str:
    """Sentence for an input neuron: its value, and that it is passed on unchanged."""
    value = float(trace.input[index])
    n_next = trace.layer_sizes[1]
    side = _image_side(trace.layer_sizes[0])
    if side is not None:
        if value == 0:
            return (
                f"{label.capitalize()} is black (0) in this image, so it adds nothing to any neuron of the "
                "next layer."
            )
        return (
            f"{label.capitalize()} has brightness {format_number(value)} (0 = black, 1 = white ink); it is "
            f"passed unchanged to all {n_next} neurons of the next layer, each with its own weight."
        )
    return (
        f"Input {label} = {format_number(value)}: it is passed unchanged to all {n_next} neurons of the next "
        f"layer, each multiplying it by its own weight."
    )


def _describe_squashing_neuron(activation: str, z: float, a: float) -> str:
    """Sentence for a tanh or sigmoid neuron: saturated (flat) or in its responsive middle range."""
    name = ACTIVATION_NAMES[activation]
    low, high = ("-1", "+1") if activation == "tanh" else ("0", "1")
    if abs(z) >= SATURATION_Z[activation]:
        end, state = (high, "firmly on") if z > 0 else (low, "firmly off")
        return (
            f"z = {format_number(z)} is far from 0, so {name} is saturated near {end} (a = {format_number(a)}): "
            f"the neuron is {state}, and small changes to its inputs barely move it."
        )
    return (
        f"z = {format_number(z)} is in {name}'s responsive middle range, so a = {name}({format_number(z)}) = "
        f"{format_number(a)} still moves noticeably when z changes."
    )


def _describe_softmax_neuron(z: np.ndarray, a: np.ndarray, index: int, names: list[str]) -> str:
    """Sentence for a softmax output: why it won, or how far it is behind the winner."""
    order = np.argsort(-np.asarray(z, dtype=float), kind="stable")
    winner = int(order[0])
    zi, pi = float(z[index]), float(a[index])
    if index == winner:
        text = (
            f"'{names[index]}' has the largest z ({format_number(zi)}); softmax turns that into "
            f"{format_percent(pi)}, so the network answers '{names[index]}'."
        )
        if len(order) > 1:
            runner = int(order[1])
            text += f" The runner-up is '{names[runner]}' at {format_percent(float(a[runner]))}."
        return text
    rank = int(np.nonzero(order == index)[0][0]) + 1
    return (
        f"'{names[index]}' has z = {format_number(zi)}, below the winner '{names[winner]}' "
        f"(z = {format_number(float(z[winner]))}); softmax gives it {format_percent(pi)} "
        f"(rank {rank} of {len(order)}), so the network does not pick it."
    )
