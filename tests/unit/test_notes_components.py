"""Side panels: every number they show is checked against an independent numpy forward pass."""

from __future__ import annotations

import re

import numpy as np
import pytest
from dash import dash_table
from hypothesis import given, settings
from hypothesis import strategies as st

from singularity_dash.components import (
    build_encoding_legend,
    build_inspector_id,
    build_inspector_panel,
    build_layer_notes,
    build_neuron_table,
    compute_inspection,
    compute_neuron_rows,
    parse_row_id,
)
from singularity_dash.errors import InputError
from singularity_dash.figures.colors import NEGATIVE_COLOR, POSITIVE_COLOR
from singularity_dash.notes import (
    compute_neuron_labels,
    describe_layer,
    describe_neuron,
    format_number,
    format_percent,
)
from singularity_dash.trace import LayerTrace, Trace

MNIST_SIZES = (784, 128, 64, 10)
XOR_SIZES = (2, 2, 1)
NUMBER = r"-?\d+(?:\.\d+)?(?:e[+-]\d+)?"


# ---- independent numpy reference -------------------------------------------------------------

def apply_activation(name: str, z: np.ndarray) -> np.ndarray:
    """Reference activations, written here independently of the code under test."""
    z = np.asarray(z, dtype=np.float64)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "softmax":
        e = np.exp(z - z.max())
        return e / e.sum()
    raise AssertionError(name)


def make_trace(sizes, hidden, output, seed=0, x=None, weights=None, biases=None, model="test") -> Trace:
    """A float32 Trace from a numpy forward pass with random (or given) weights."""
    rng = np.random.default_rng(seed)
    if x is None:
        x = rng.random(sizes[0])
        if sizes[0] == 784:  # mostly black like a digit image
            x = x * (rng.random(784) < 0.2)
    a = np.asarray(x, dtype=np.float32)
    x = a
    layers = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = rng.normal(0, 1.5 / np.sqrt(n_in), (n_out, n_in)) if weights is None else weights[k]
        b = rng.normal(0, 0.5, n_out) if biases is None else biases[k]
        w, b = np.asarray(w, np.float32), np.asarray(b, np.float32)
        act = output if k == len(sizes) - 2 else hidden
        z = (w @ a + b).astype(np.float32)
        a = apply_activation(act, z).astype(np.float32)
        name = "output" if k == len(sizes) - 2 else f"hidden {k + 1}"
        layers.append(LayerTrace(name=name, activation=act, weight=w, bias=b, z=z, a=a))
    probs = np.array([1 - a[0], a[0]]) if output == "sigmoid" else a.astype(np.float64)
    return Trace(model=model, input=x, layers=tuple(layers), probabilities=probs,
                 prediction=int(np.argmax(probs)))


def mnist_trace(seed=0) -> Trace:
    return make_trace(MNIST_SIZES, "relu", "softmax", seed, model="mnist")


def xor_trace(seed=0, x=(1.0, 0.0), **kw) -> Trace:
    return make_trace(XOR_SIZES, "tanh", "sigmoid", seed, x=np.array(x), model="xor", **kw)


def reference_neuron(trace: Trace, layer: int, index: int):
    """(w, a_prev, b, z, a) recomputed in float64 from the trace's weights and input alone."""
    a = trace.input.astype(np.float64)
    for k in range(layer):
        lt = trace.layers[k]
        z_all = lt.weight.astype(np.float64) @ a + lt.bias.astype(np.float64)
        a_prev, a = a, apply_activation(lt.activation, z_all)
    lt = trace.layers[layer - 1]
    return lt.weight[index].astype(np.float64), a_prev, float(lt.bias[index]), float(z_all[index]), float(a[index])


def assert_shown(text: str, expected: float) -> None:
    """A displayed number equals the reference within 4-significant-digit rounding (+ float32 noise)."""
    shown = float(text)
    assert abs(shown - expected) <= 5e-4 * abs(expected) + 2e-5, f"shown {text}, expected {expected}"


def iter_components(node):
    """Every component and string in a Dash component tree."""
    yield node
    children = getattr(node, "children", None)
    if children is None:
        return
    for child in children if isinstance(children, (list, tuple)) else [children]:
        yield from iter_components(child)


def find_by_id(tree, element_id):
    matches = [c for c in iter_components(tree) if getattr(c, "id", None) == element_id]
    assert len(matches) == 1, f"{element_id}: {len(matches)} matches"
    return matches[0]


def all_text(tree) -> str:
    return " ".join(c for c in iter_components(tree) if isinstance(c, str))


# ---- format_number ---------------------------------------------------------------------------

@pytest.mark.parametrize("value, text", [
    (0.623456, "0.6235"), (-1.3, "-1.3"), (1.0, "1"), (123456.0, "1.235e+05"), (-0.0, "0"),
    (-1e-9, "-1e-09"), (float("nan"), "NaN"),
])
def test_format_number_uses_four_significant_digits(value, text):
    assert format_number(value) == text


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_format_number_round_trips_within_display_rounding(value):
    assert abs(float(format_number(value)) - value) <= 5e-4 * abs(value)


# ---- inspector numbers -----------------------------------------------------------------------

def check_inspection_numbers(trace: Trace, layer: int, index: int) -> None:
    ins = compute_inspection(trace, layer, index)
    w, a_prev, b, z, a = reference_neuron(trace, layer, index)
    np.testing.assert_allclose(ins.weights, w)
    np.testing.assert_allclose(ins.inputs, a_prev, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ins.contributions, w * a_prev, rtol=1e-5, atol=1e-6)
    assert ins.bias == pytest.approx(b)
    assert ins.z == pytest.approx(z, rel=1e-4, abs=1e-5)
    assert ins.a == pytest.approx(a, rel=1e-4, abs=1e-6)
    # Top contributors: the largest |w * a_prev|, biggest first, with their own numbers.
    products = w * a_prev
    magnitudes = [abs(c.product) for c in ins.top_contributors]
    assert magnitudes == sorted(magnitudes, reverse=True)
    expected_top = np.sort(np.abs(products))[::-1][: len(ins.top_contributors)]
    np.testing.assert_allclose(magnitudes, expected_top, rtol=1e-5, atol=1e-6)
    for c in ins.top_contributors:
        assert c.weight == pytest.approx(w[c.index])
        assert c.input == pytest.approx(a_prev[c.index], rel=1e-5, abs=1e-6)
        assert c.product == pytest.approx(products[c.index], rel=1e-5, abs=1e-6)
    check_formulas(ins.z_formula, ins.a_formula, ins.activation, w, a_prev, b, z, a)


def check_formulas(z_formula, a_formula, activation, w, a_prev, b, z, a) -> None:
    """Parse the formula strings and check each number against the reference."""
    pairs = re.findall(rf"\(({NUMBER})\)\(({NUMBER})\)", z_formula)
    tail = re.search(rf"\+ \(({NUMBER})\) = ({NUMBER})$", z_formula)
    assert tail, z_formula
    assert_shown(tail.group(1), b)
    assert_shown(tail.group(2), z)
    products = w * a_prev
    if len(w) <= 8:
        assert len(pairs) == len(w)
        for (ws, as_), wj, aj in zip(pairs, w, a_prev):
            assert_shown(ws, wj)
            assert_shown(as_, aj)
        assert "more terms" not in z_formula
    else:
        assert len(pairs) == 5
        top = np.argsort(-np.abs(products), kind="stable")[:5]
        for (ws, as_), j in zip(pairs, top):
            assert_shown(ws, w[j])
            assert_shown(as_, a_prev[j])
        rest = re.search(rf"\.\.\. \((\d+) more terms, sum ({NUMBER})\)", z_formula)
        assert rest, z_formula
        assert int(rest.group(1)) == len(w) - 5
        assert_shown(rest.group(2), products.sum() - products[top].sum())
    act_call = re.match(rf"a = \w+\(({NUMBER})\)", a_formula) or re.search(rf"e\^\(({NUMBER})\)", a_formula)
    assert act_call, a_formula
    assert_shown(act_call.group(1), z)
    assert_shown(a_formula.rsplit("= ", 1)[1], a)


def test_xor_inspection_numbers_match_numpy_for_every_neuron():
    trace = xor_trace(seed=3, x=(1.0, 0.0))
    for layer, size in enumerate(trace.layer_sizes[1:], start=1):
        for index in range(size):
            check_inspection_numbers(trace, layer, index)


def test_mnist_inspection_numbers_match_numpy_for_every_computing_neuron():
    trace = mnist_trace(seed=1)
    for layer, size in enumerate(trace.layer_sizes[1:], start=1):
        for index in range(size):
            check_inspection_numbers(trace, layer, index)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), x1=st.sampled_from([0.0, 1.0]), x2=st.sampled_from([0.0, 1.0]))
def test_xor_formulas_match_numpy_for_random_nets(seed, x1, x2):
    trace = xor_trace(seed=seed, x=(x1, x2))
    check_inspection_numbers(trace, 1, seed % 2)
    check_inspection_numbers(trace, 2, 0)


def test_small_fan_in_formula_writes_every_term_in_order():
    trace = xor_trace(x=(1.0, 0.0), weights=[[[0.52, -1.3], [1.0, 1.0]], [[2.0, -2.0]]],
                      biases=[[0.1, 0.0], [0.0]])
    ins = compute_inspection(trace, 1, 0)
    assert ins.z_formula == "z = (0.52)(1) + (-1.3)(0) + (0.1) = 0.62"
    assert ins.a_formula == f"a = tanh(0.62) = {format_number(np.tanh(np.float32(0.62)))}"


def test_input_neuron_inspection_is_just_the_value():
    trace = mnist_trace(seed=2)
    index = int(np.argmax(trace.input))
    ins = compute_inspection(trace, 0, index)
    assert ins.is_input and ins.z is None and ins.bias is None and ins.top_contributors == ()
    assert ins.a == pytest.approx(float(trace.input[index]))
    label = compute_neuron_labels(MNIST_SIZES, 0)[index]
    assert label == f"pixel ({index // 28}, {index % 28})"
    assert ins.z_formula == f"{label} = {format_number(trace.input[index])}"


def test_input_labels_name_the_contributors():
    trace = xor_trace(x=(1.0, 1.0))
    ins = compute_inspection(trace, 1, 1, input_labels=["left", "right"])
    assert {c.label for c in ins.top_contributors} == {"left", "right"}
    with pytest.raises(InputError, match="2 neurons but 3 labels"):
        compute_inspection(trace, 1, 1, input_labels=["a", "b", "c"])


@pytest.mark.parametrize("layer, index, message", [
    (4, 0, "layer must be between 0 and 3"), (1, 128, "has 128 neurons"), (-1, 0, "between 0 and 3"),
    (1, True, "must be an integer"), ("1", 0, "must be an integer"),
])
def test_bad_selection_raises_a_clear_input_error(layer, index, message):
    trace = mnist_trace()
    with pytest.raises(InputError, match=message):
        compute_inspection(trace, layer, index)
    with pytest.raises(InputError, match=message):
        describe_neuron(trace, layer, index)


# ---- inspector panel -------------------------------------------------------------------------

def test_panel_shows_the_inspected_numbers_under_stable_ids():
    trace = mnist_trace(seed=4)
    ins = compute_inspection(trace, 2, 7)
    _, _, b, z, a = reference_neuron(trace, 2, 7)
    sentence = describe_neuron(trace, 2, 7)
    card = build_inspector_panel(ins, sentence, "mnist")
    assert find_by_id(card, "mnist-inspector-title").children == "Neuron h2.8 (hidden 2, #7)"
    for part, expected in (("bias", b), ("z", z), ("a", a)):
        shown = find_by_id(card, build_inspector_id("mnist", part)).children
        assert_shown(shown, expected)
    assert find_by_id(card, "mnist-inspector-z-formula").children == ins.z_formula
    assert find_by_id(card, "mnist-inspector-sentence").children == sentence
    assert format_number(ins.z) in all_text(card)
    table = find_by_id(card, "mnist-inspector-contributors")
    body_rows = [c for c in iter_components(table) if type(c).__name__ == "Tr"][1:]
    assert len(body_rows) == 5
    w, a_prev = trace.layers[1].weight[7].astype(float), trace.layers[0].a.astype(float)
    for row, contrib in zip(body_rows, ins.top_contributors):
        cells = [td.children for td in row.children]
        assert cells[0] == contrib.label
        assert_shown(cells[1], w[contrib.index])
        assert_shown(cells[2], a_prev[contrib.index])
        assert_shown(cells[3], w[contrib.index] * a_prev[contrib.index])


def test_xor_panel_title_and_input_panel_value():
    trace = xor_trace(x=(0.0, 1.0))
    card = build_inspector_panel(compute_inspection(trace, 1, 0), "s", "xor")
    assert find_by_id(card, "xor-inspector-title").children == "Neuron h1 (hidden 1, #0)"
    card = build_inspector_panel(compute_inspection(trace, 0, 1), "s", "xor")
    assert find_by_id(card, "xor-inspector-value").children == "1"
    assert find_by_id(card, "xor-inspector-title").children == "Neuron x2 (input, #1)"


# ---- neuron table ----------------------------------------------------------------------------

def test_rows_match_the_trace_for_every_layer():
    trace = mnist_trace(seed=5)
    for layer, size in enumerate(trace.layer_sizes):
        rows = compute_neuron_rows(trace, layer)
        assert len(rows) == size
        assert [r["neuron"] for r in rows] == list(range(size))
        assert all(r["layer"] == layer for r in rows)
        assert [parse_row_id(r["id"]) for r in rows] == [(layer, i) for i in range(size)]
        if layer == 0:
            assert set(rows[0]) == {"id", "layer", "neuron", "label", "a"}
            for r, x in zip(rows, trace.input.astype(float)):
                assert_shown(str(r["a"]), x)
            continue
        lt = trace.layers[layer - 1]
        a_prev = trace.activations[layer - 1].astype(float)
        z_ref = lt.weight.astype(float) @ a_prev + lt.bias.astype(float)
        a_ref = apply_activation(lt.activation, z_ref)
        for r, b, z, a in zip(rows, lt.bias, z_ref, a_ref):
            assert all(isinstance(r[k], float) for k in ("bias", "z", "a"))
            assert_shown(str(r["bias"]), float(b))
            assert_shown(str(r["z"]), z)
            assert_shown(str(r["a"]), a)
    assert [r["label"] for r in compute_neuron_rows(trace, 3)] == [str(d) for d in range(10)]


def test_table_is_native_sortable_filterable_and_typed():
    trace = xor_trace()
    rows = compute_neuron_rows(trace, 1, labels=["first", "second"])
    table = build_neuron_table("xor-neuron-table", rows, page_size=5, selected=(1, 1))
    assert isinstance(table, dash_table.DataTable)
    assert (table.sort_action, table.filter_action, table.page_size) == ("native", "native", 5)
    assert [c["id"] for c in table.columns] == ["layer", "neuron", "label", "bias", "z", "a"]
    assert {c["id"]: c["type"] for c in table.columns}["z"] == "numeric"
    assert [r["label"] for r in table.data] == ["first", "second"]
    assert table.style_data_conditional[0]["if"]["filter_query"] == "{layer} = 1 && {neuron} = 1"
    input_table = build_neuron_table("t", compute_neuron_rows(trace, 0))
    assert [c["id"] for c in input_table.columns] == ["layer", "neuron", "label", "a"]
    with pytest.raises(InputError, match="not a neuron row id"):
        parse_row_id("abc")


# ---- sentences -------------------------------------------------------------------------------

def test_relu_sentences_say_fires_or_silent():
    trace = mnist_trace(seed=6)
    z = trace.layers[0].z
    on, off = int(np.argmax(z)), int(np.argmin(z))
    assert z[on] > 0 > z[off]
    fires = describe_neuron(trace, 1, on)
    assert "fires" in fires and f"z = {format_number(z[on])} > 0" in fires
    assert f"a = {format_number(trace.layers[0].a[on])}" in fires
    silent = describe_neuron(trace, 1, off)
    assert "silent" in silent and "negative" in silent and "fires" not in silent


def test_tanh_sentences_distinguish_saturated_from_middle_range():
    weights = [[[5.0, 5.0], [0.1, 0.1]], [[1.0, -1.0]]]
    up = xor_trace(x=(1.0, 1.0), weights=weights, biases=[[0.0, 0.0], [0.0]])
    assert "saturated near +1" in describe_neuron(up, 1, 0) and "firmly on" in describe_neuron(up, 1, 0)
    assert "middle range" in describe_neuron(up, 1, 1)
    down = xor_trace(x=(1.0, 1.0), weights=[[[-5.0, -5.0], [0.1, 0.1]], [[1.0, -1.0]]],
                     biases=[[0.0, 0.0], [0.0]])
    assert "saturated near -1" in describe_neuron(down, 1, 0)


@pytest.mark.parametrize("out_bias, verdict", [(3.0, "> 0.5, so the network says 1"),
                                               (-3.0, "<= 0.5, so the network says 0")])
def test_xor_output_sentence_states_the_answer(out_bias, verdict):
    trace = xor_trace(x=(1.0, 0.0), weights=[[[1.0, 1.0], [1.0, 1.0]], [[0.1, 0.1]]],
                      biases=[[0.0, 0.0], [out_bias]])
    text = describe_neuron(trace, 2, 0)
    p = float(apply_activation("sigmoid", trace.layers[1].z)[0])
    assert text.startswith("P(y=1)") and verdict in text
    assert_shown(re.search(rf"= ({NUMBER}) [<>]", text).group(1), p)


def test_softmax_sentences_explain_winner_and_losers():
    trace = mnist_trace(seed=7)
    z = trace.layers[-1].z.astype(float)
    p = apply_activation("softmax", z)
    order = np.argsort(-z)
    winner, runner, last = (int(i) for i in (order[0], order[1], order[-1]))
    won = describe_neuron(trace, 3, winner)
    assert f"'{winner}' has the largest z ({format_number(z[winner])})" in won
    assert format_percent(p[winner]) in won
    assert f"runner-up is '{runner}' at {format_percent(p[runner])}" in won
    lost = describe_neuron(trace, 3, last)
    assert "does not pick it" in lost and "rank 10 of 10" in lost and f"winner '{winner}'" in lost
    named = describe_neuron(trace, 3, winner, labels=[f"digit {i}" for i in range(10)])
    assert f"'digit {winner}' has the largest z" in named


def test_input_sentences_name_the_value():
    trace = mnist_trace(seed=8)
    black = int(np.flatnonzero(trace.input == 0)[0])
    assert "is black (0)" in describe_neuron(trace, 0, black)
    assert describe_neuron(xor_trace(x=(1.0, 0.0)), 0, 0).startswith("Input x1 = 1:")


# ---- layer notes -----------------------------------------------------------------------------

def test_describe_layer_for_mnist():
    acts = ["relu", "relu", "softmax"]
    first = describe_layer(MNIST_SIZES, 0)
    assert "28x28 pixels flattened to 784 numbers" in first.explanation and first.parameter_count == 0
    hidden = describe_layer(MNIST_SIZES, 1, "relu")
    assert hidden.shape == "128 x 784" and hidden.parameter_count == 128 * 784 + 128
    assert hidden.activation_formula == "ReLU(z) = max(0, z)" and r"\max" in hidden.activation_latex
    out = describe_layer(MNIST_SIZES, 3, "softmax")
    assert out.title == "Layer 3: output (10 neurons, softmax)" and "one output neuron per class" in out.explanation
    total = sum(describe_layer(MNIST_SIZES, k, acts[k - 1] if k else None).parameter_count for k in range(4))
    assert total == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10


def test_describe_layer_for_xor_and_bad_input():
    assert "two inputs x1, x2" in describe_layer(XOR_SIZES, 0).explanation.lower()
    assert "tanh(z)" in describe_layer(XOR_SIZES, 1, "tanh").activation_formula
    assert "P(y = 1)" in describe_layer(XOR_SIZES, 2, "sigmoid").explanation
    with pytest.raises(InputError, match="needs an activation"):
        describe_layer(XOR_SIZES, 1)
    with pytest.raises(InputError, match="unknown activation 'gelu'"):
        describe_layer(XOR_SIZES, 1, "gelu")
    with pytest.raises(InputError, match="between 0 and 2"):
        describe_layer(XOR_SIZES, 3, "tanh")


def test_describe_layer_reads_a_trace_directly():
    note = describe_layer(mnist_trace(), 2)
    assert note.shape == "64 x 128" and note.activation == "relu"


def test_layer_notes_has_one_item_per_layer():
    accordion = build_layer_notes(MNIST_SIZES, ["relu", "relu", "softmax"], id_prefix="mnist")
    assert accordion.id == "mnist-layer-notes"
    titles = [item.title for item in accordion.children]
    assert titles == [describe_layer(MNIST_SIZES, k, [None, "relu", "relu", "softmax"][k]).title for k in range(4)]
    assert "128 x 784" in all_text(accordion)
    with pytest.raises(InputError, match="one activation per computing layer"):
        build_layer_notes(MNIST_SIZES, ["relu"])


def test_layer_notes_from_the_model_registry():
    nets = pytest.importorskip("singularity_dash.nets")  # needs torch
    accordion = build_layer_notes(nets.REGISTRY["xor"])
    assert [item.title for item in accordion.children][-1] == "Layer 2: output (1 neuron, sigmoid)"


# ---- legend ----------------------------------------------------------------------------------

def test_legend_words_match_the_figure_colours():
    text = all_text(build_encoding_legend("xor"))
    neg = [int(NEGATIVE_COLOR[i: i + 2], 16) for i in (1, 3, 5)]
    pos = [int(POSITIVE_COLOR[i: i + 2], 16) for i in (1, 3, 5)]
    assert neg[2] > neg[0] and pos[0] > pos[2]  # the scale really is blue-negative, red-positive
    assert "blue is negative" in text and "red is positive" in text
    phrases = ("Neuron colour = activation", "Neuron size = |a|", "Edge colour = weight sign", "Edge width = |weight|")
    for phrase in phrases:
        assert phrase in text
