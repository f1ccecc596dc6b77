"""The /xor view state (URL round trip), its words, and the forward-pass animation data."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from singularity_dash.errors import InputError
from singularity_dash.figures.network3d import compute_layout, compute_trace_index
from singularity_dash.notes import format_number
from singularity_dash.xor_training import TRUTH_TABLES, compute_initial_params, compute_trace_from_weights
from singularity_dash.xor_view import (
    PENDING_COLOR,
    XorView,
    compute_animation_steps,
    compute_is_correct,
    compute_neuron_formulas,
    compute_prediction_words,
    compute_step_count,
    compute_table_name,
    compute_target_words,
    compute_truth_row,
    parse_neuron,
    validate_view_against,
)


def _trace(hidden=2, activation="tanh", x=(1.0, 0.0), seed=0):
    w, b = compute_initial_params(hidden, seed)
    return compute_trace_from_weights(w, b, activation, list(x))


def test_query_round_trip_of_a_full_view():
    view = XorView(1.0, 0.0, (1, 0), 3)
    assert view.to_query() == "?x1=1&x2=0&neuron=1-0&step=3"
    assert XorView.from_query(view.to_query()) == view
    assert XorView.from_query({"x1": "1", "x2": "0", "neuron": "1-0", "step": "3"}) == view


@given(st.floats(0, 1), st.floats(0, 1), st.none() | st.tuples(st.integers(0, 2), st.integers(0, 7)),
       st.none() | st.integers(0, 40))
def test_query_round_trip_keeps_four_decimals(x1, x2, neuron, step):
    back = XorView.from_query(XorView(x1, x2, neuron, step).to_query())
    assert back.x1 == pytest.approx(x1, abs=5e-5) and back.x2 == pytest.approx(x2, abs=5e-5)
    assert back.neuron == neuron and back.step == step


def test_empty_query_gives_the_default_view():
    assert XorView.from_query({}) == XorView()
    assert XorView.from_query("") == XorView()


@pytest.mark.parametrize("query, message", [
    ({"x1": "2"}, "between 0 and 1"),
    ({"x2": "abc"}, "x2 must be a number"),
    ({"neuron": "h1"}, "layer-index"),
    ({"neuron": "-1-0"}, "layer-index"),
    ({"step": "x"}, "whole number"),
    ({"step": "-2"}, "0 or more"),
])
def test_bad_queries_raise_clear_errors(query, message):
    with pytest.raises(InputError, match=message):
        XorView.from_query(query)


def test_parse_neuron():
    assert parse_neuron("2-0") == (2, 0)
    assert parse_neuron(None) is None and parse_neuron("") is None


def test_view_drops_a_neuron_the_architecture_lacks():
    view = XorView(0, 1, (1, 7), 2)
    assert validate_view_against(view, (2, 2, 1)).neuron is None
    assert validate_view_against(view, (2, 8, 1)).neuron == (1, 7)


def test_truth_rows_and_table_names():
    assert [compute_truth_row(a, b) for a, b in ((0, 0), (0, 1), (1, 0), (1, 1))] == [0, 1, 2, 3]
    assert compute_truth_row(0.5, 1) is None
    assert compute_table_name((0, 1, 1, 0)) == "XOR"
    assert compute_table_name((1, 1, 1, 0)) == "custom"


def test_prediction_and_target_words_follow_the_trace():
    trace = _trace(x=(0.0, 1.0))
    p = float(trace.probabilities[1])
    words = compute_prediction_words(trace)
    assert words == f"The network says {'1 (true)' if p > 0.5 else '0 (false)'}: P(y = 1) = {format_number(p)}."
    assert compute_target_words(0, 1, TRUTH_TABLES["XOR"]) == "Target: XOR(0, 1) = 1 (true)."
    assert compute_target_words(1, 1, TRUTH_TABLES["AND"]) == "Target: AND(1, 1) = 1 (true)."
    assert "between the truth-table rows" in compute_target_words(0.3, 0.6, TRUTH_TABLES["XOR"])
    assert compute_is_correct(trace, 0, 1, TRUTH_TABLES["XOR"]) == (trace.prediction == 1)
    assert compute_is_correct(trace, 0.2, 1, TRUTH_TABLES["XOR"]) is None


def test_neuron_formulas_show_the_numbers_recomputed_with_numpy():
    trace = _trace(x=(1.0, 0.0))
    layout = compute_layout(trace.layer_sizes)
    w, b = trace.layers[0].weight, trace.layers[0].bias
    z = float(w[1] @ np.array([1.0, 0.0]) + b[1])
    z_line, a_line = compute_neuron_formulas(layout, trace, 1, 1)
    assert z_line.startswith("h2: z = w1·x1 + w2·x2 + b = ")
    assert z_line.endswith(f"= {format_number(z)}")
    assert f"({format_number(w[1, 0])})(1)" in z_line
    assert a_line == f"h2: a = tanh(z) = tanh({format_number(z)}) = {format_number(np.tanh(z))}"


@pytest.mark.parametrize("hidden", [2, 3, 8])
def test_animation_steps_walk_through_the_network(hidden):
    trace = _trace(hidden=hidden, x=(0.0, 1.0))
    layout = compute_layout(trace.layer_sizes)
    index = compute_trace_index(layout)
    anim = compute_animation_steps(layout, trace)
    count = compute_step_count(trace.layer_sizes)
    assert anim["count"] == count == len(anim["updates"]) == len(anim["captions"])
    hidden_key, output_key = str(index.neurons[1]), str(index.neurons[2])
    # first step: only the inputs are lit
    first = anim["updates"][0]
    assert first[hidden_key]["marker.color"] == [PENDING_COLOR] * hidden
    assert first[output_key]["marker.color"] == [PENDING_COLOR]
    # the step where h1 computes: h1 coloured and labelled with its activation, h2.. still pending
    h1_step = next(i for i, c in enumerate(anim["captions"]) if "neuron h1 computes" in c["title"])
    colors = anim["updates"][h1_step][hidden_key]["marker.color"]
    assert colors[0] != PENDING_COLOR and colors[1:] == [PENDING_COLOR] * (hidden - 1)
    assert anim["updates"][h1_step][hidden_key]["text"][0] == f"h1 = {format_number(trace.layers[0].a[0])}"
    # the last step restores the figure's numeric colours and plain labels
    last = anim["updates"][-1]
    np.testing.assert_allclose(last[hidden_key]["marker.color"], trace.layers[0].a)
    assert last[hidden_key]["text"] == [f"h{i + 1}" for i in range(hidden)]
    assert "Done" in anim["captions"][-1]["title"]
    # every step sets every animated trace, so any step can follow any other
    keys = set(anim["updates"][0])
    assert all(set(u) == keys for u in anim["updates"])
    # edges into the hidden layer glow at their step and are dim before
    edge_key = str(index.edges[0][0])
    travel = next(i for i, c in enumerate(anim["captions"]) if "travel to the hidden 1" in c["title"])
    assert anim["updates"][travel][edge_key]["opacity"] > anim["updates"][0][edge_key]["opacity"]


def test_animation_rejects_a_mismatched_layout():
    with pytest.raises(InputError):
        compute_animation_steps(compute_layout((2, 3, 1)), _trace(hidden=2))
