"""Neuron inspector: the numbers behind one neuron (weights, inputs, z, a) and the card that shows them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import dash_bootstrap_components as dbc
import numpy as np
from dash import html

from singularity_dash.errors import InputError
from singularity_dash.notes import (
    compute_activation_name,
    compute_layer_name,
    compute_neuron_labels,
    format_number,
    validate_neuron,
)
from singularity_dash.trace import Trace

TOP_CONTRIBUTORS = 5
# Fan-ins up to this size are written out term by term; larger ones show the top terms and a remainder.
FULL_FORMULA_MAX_TERMS = 8
INSPECTOR_PARTS = (
    "card", "title", "value", "bias", "z", "a", "z-formula", "a-formula", "sentence", "contributors",
)


@dataclass(frozen=True)
class Contribution:
    """One incoming term w * a_prev of a neuron's z."""

    index: int
    label: str
    weight: float
    input: float  # a_prev
    product: float  # weight * input


@dataclass(frozen=True)
class NeuronInspection:
    """Everything the inspector shows about one neuron for one input."""

    layer: int
    index: int
    label: str
    layer_name: str
    activation: str | None  # None for input neurons
    weights: np.ndarray  # (n_in,) incoming weights; empty for input neurons
    bias: float | None
    inputs: np.ndarray  # (n_in,) a_prev; empty for input neurons
    contributions: np.ndarray  # weights * inputs
    z: float | None
    a: float  # the input value itself for input neurons
    top_contributors: tuple[Contribution, ...]  # largest |w * a_prev| first
    z_formula: str
    a_formula: str

    @property
    def is_input(self) -> bool:
        """True for a neuron of the input layer (it has a value, no weights)."""
        return self.layer == 0


def build_inspector_id(id_prefix: str, part: str) -> str:
    """The element id of one inspector part, e.g. ("mnist", "z") -> "mnist-inspector-z"."""
    if part not in INSPECTOR_PARTS:
        raise InputError(f"unknown inspector part {part!r}; expected one of {INSPECTOR_PARTS}")
    return f"{id_prefix}-inspector-{part}"


def _term(weight: float, value: float) -> str:
    """One product term as written in the formula: "(0.52)(1)"."""
    return f"({format_number(weight)})({format_number(value)})"


def compute_z_formula(weights: np.ndarray, inputs: np.ndarray, bias: float, z: float,
                      top: Sequence[int] | None = None) -> str:
    """ "z = (w)(a) + ... + (b) = z", every term for small fan-in, else the `top` terms and the remainder."""
    n = len(weights)
    if n <= FULL_FORMULA_MAX_TERMS or top is None:
        terms = [_term(weights[j], inputs[j]) for j in range(n)]
    else:
        shown = list(top)
        terms = [_term(weights[j], inputs[j]) for j in shown]
        rest = np.setdiff1d(np.arange(n), shown)
        rest_sum = float(np.sum(weights[rest].astype(float) * inputs[rest].astype(float)))
        terms.append(f"... ({len(rest)} more terms, sum {format_number(rest_sum)})")
    terms.append(f"({format_number(bias)})")
    return f"z = {' + '.join(terms)} = {format_number(z)}"


def compute_a_formula(activation: str, z: float, a: float, index: int) -> str:
    """ "a = tanh(0.62) = 0.5511" (ReLU also shows max(0, z); softmax names the neuron's slot)."""
    zs, as_ = format_number(z), format_number(a)
    if activation == "relu":
        return f"a = ReLU({zs}) = max(0, {zs}) = {as_}"
    if activation == "softmax":
        return f"a = softmax(z)[{index}] = e^({zs}) / sum_j e^(z_j) = {as_}"
    return f"a = {activation}({zs}) = {as_}"


def compute_inspection(trace: Trace, layer: int, index: int,
                       input_labels: Sequence[str] | None = None,
                       top_k: int = TOP_CONTRIBUTORS) -> NeuronInspection:
    """The numbers behind neuron (layer, index): z = W[index] @ a_prev + b[index], a = act(z), top terms."""
    layer, index = validate_neuron(trace, layer, index)
    sizes = trace.layer_sizes
    label = compute_neuron_labels(sizes, layer)[index]
    name = compute_layer_name(len(sizes), layer)
    empty = np.zeros(0, dtype=float)
    if layer == 0:
        value = float(trace.input[index])
        return NeuronInspection(
            layer=0, index=index, label=label, layer_name=name, activation=None,
            weights=empty, bias=None, inputs=empty, contributions=empty, z=None, a=value,
            top_contributors=(), z_formula=f"{label} = {format_number(value)}", a_formula="",
        )
    lt = trace.layers[layer - 1]
    compute_activation_name(lt.activation)
    a_prev = np.asarray(trace.activations[layer - 1], dtype=float)
    weights = np.asarray(lt.weight[index], dtype=float)
    if weights.shape != a_prev.shape:
        raise InputError(
            f"layer {layer} weights have {weights.shape[0]} inputs but the previous layer has {a_prev.shape[0]} values"
        )
    if input_labels is None:
        input_labels = compute_neuron_labels(sizes, layer - 1)
    input_labels = [str(s) for s in input_labels]
    if len(input_labels) != a_prev.shape[0]:
        raise InputError(f"layer {layer - 1} has {a_prev.shape[0]} neurons but {len(input_labels)} labels were given")
    products = weights * a_prev
    # Stable sort so equal |w*a| (e.g. many zero pixels) keep index order: reproducible across runs.
    order = np.argsort(-np.abs(products), kind="stable")
    top = order[: max(0, int(top_k))]
    contributors = tuple(
        Contribution(int(j), input_labels[j], float(weights[j]), float(a_prev[j]), float(products[j])) for j in top
    )
    bias, z, a = float(lt.bias[index]), float(lt.z[index]), float(lt.a[index])
    formula_top = order[:TOP_CONTRIBUTORS]
    return NeuronInspection(
        layer=layer, index=index, label=label, layer_name=name, activation=lt.activation,
        weights=weights, bias=bias, inputs=a_prev, contributions=products, z=z, a=a,
        top_contributors=contributors,
        z_formula=compute_z_formula(weights, a_prev, bias, z, formula_top),
        a_formula=compute_a_formula(lt.activation, z, a, index),
    )


def _value_row(label: str, value: float, element_id: str) -> html.Div:
    """One "name: number" line whose number carries a stable id for tests and callbacks."""
    return html.Div([html.Span(f"{label}: ", className="text-muted"),
                     html.Span(format_number(value), id=element_id, className="fw-bold")])


def _build_contributors_table(inspection: NeuronInspection, element_id: str) -> dbc.Table:
    """Small table of the largest incoming terms, biggest |w * a_prev| first."""
    header = html.Thead(html.Tr([html.Th(h) for h in ("input", "w", "a_prev", "w x a_prev")]))
    body = html.Tbody([
        html.Tr([html.Td(c.label), html.Td(format_number(c.weight)), html.Td(format_number(c.input)),
                 html.Td(format_number(c.product))])
        for c in inspection.top_contributors
    ])
    return dbc.Table([header, body], id=element_id, size="sm", striped=True, className="mb-0")


def build_inspector_panel(inspection: NeuronInspection, sentence: str, id_prefix: str) -> dbc.Card:
    """A card titled "Neuron h1 (hidden 1, #0)" with bias, z, a, the formulas, a sentence and top terms."""
    pid = partial(build_inspector_id, id_prefix)
    title = f"Neuron {inspection.label} ({inspection.layer_name}, #{inspection.index})"
    if inspection.is_input:
        body = [
            _value_row("value", inspection.a, pid("value")),
            html.Code(inspection.z_formula, id=pid("z-formula"), className="d-block my-2"),
            html.P(sentence, id=pid("sentence"), className="mb-0"),
        ]
    else:
        body = [
            _value_row("bias", inspection.bias, pid("bias")),
            _value_row("z", inspection.z, pid("z")),
            _value_row("a", inspection.a, pid("a")),
            html.Code(inspection.z_formula, id=pid("z-formula"), className="d-block mt-2"),
            html.Code(inspection.a_formula, id=pid("a-formula"), className="d-block mb-2"),
            html.P(sentence, id=pid("sentence")),
            html.Div("Largest contributions to z", className="small text-muted"),
            _build_contributors_table(inspection, pid("contributors")),
        ]
    return dbc.Card(
        [dbc.CardHeader(title, id=pid("title")), dbc.CardBody(body)],
        id=pid("card"), className="mb-3",
    )
