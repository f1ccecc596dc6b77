"""The 3D network figure: geometry, encodings, edges, selection and the incremental patch."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.io.json import to_json_plotly

from singularity_dash.errors import InputError
from singularity_dash.figures.colors import DIVERGING_LUT, LUT_SIZE, SEQUENTIAL_SCALE
from singularity_dash.figures.network3d import (
    EDGE_WIDTHS,
    build_network_figure,
    build_network_patch,
    compute_layout,
    compute_network_update,
    compute_selection_update,
    compute_top_edges,
    compute_trace_index,
)
from singularity_dash.trace import LayerTrace, Trace

MNIST = (784, 128, 64, 10)
XOR = (2, 2, 1)


def _activate(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z - z.max())
    return e / e.sum()


def make_trace(sizes, hidden="relu", output="softmax", seed=0, x=None) -> Trace:
    """A forward pass with random weights, computed with plain numpy."""
    rng = np.random.default_rng(seed)
    a = rng.random(sizes[0]) if x is None else np.asarray(x, dtype=float)
    x = a
    layers = []
    n_layers = len(sizes) - 1
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        w = rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_out, n_in))
        b = rng.normal(0.0, 0.1, n_out)
        z = w @ a + b
        name = output if k == n_layers - 1 else hidden
        a = _activate(name, z)
        layer_name = "output" if k == n_layers - 1 else f"hidden {k + 1}"
        layers.append(LayerTrace(layer_name, name, w, b, z, a))
    probs = a if a.size > 1 else np.array([1 - a[0], a[0]])
    return Trace("test", x, tuple(layers), probs, int(np.argmax(probs)))


@pytest.fixture(scope="module")
def mnist():
    layout = compute_layout(MNIST)
    trace = make_trace(MNIST)
    return layout, trace, build_network_figure(layout, trace, selection=(1, 5))


def as_sent(values) -> list:
    """A trace property as the browser receives it (JSON through the app's engine: NaN becomes null)."""
    return [] if values is None else json.loads(to_json_plotly(values, engine="orjson"))


def _edge_pairs(layout, k, trace_obj):
    """(src index, dst index, per-point colour) for every segment of an edge trace into layer k."""
    src_of = {p: i for i, p in enumerate(zip(layout.x[k - 1], layout.y[k - 1], layout.z[k - 1]))}
    dst_of = {p: i for i, p in enumerate(zip(layout.x[k], layout.y[k], layout.z[k]))}
    xs, ys, zs = as_sent(trace_obj.x), as_sent(trace_obj.y), as_sent(trace_obj.z)
    colors = as_sent(trace_obj.line.color)
    assert len(xs) % 3 == 0
    assert all(v is None for v in xs[2::3]) and all(v is None for v in zs[2::3])
    pairs = []
    for s in range(0, len(xs), 3):
        src = src_of[(xs[s], ys[s], zs[s])]
        dst = dst_of[(xs[s + 1], ys[s + 1], zs[s + 1])]
        pairs.append((src, dst, colors[s]))
    return pairs


# --- layout -----------------------------------------------------------------------------------


def test_xor_layout_is_small_and_labelled():
    layout = compute_layout(XOR)
    assert layout.labels == (("x1", "x2"), ("h1", "h2"), ("y",))
    assert layout.layer_names == ("input", "hidden 1", "output")
    assert layout.compact and all(layout.show_text)
    # Layers march along x; the first neuron of a layer sits on top.
    assert layout.x[0][0] < layout.x[1][0] < layout.x[2][0]
    assert layout.z[0][0] > layout.z[0][1]


def test_mnist_layout_geometry():
    layout = compute_layout(MNIST)
    assert layout.neuron_count == 986
    assert [len(v) for v in layout.x] == list(MNIST)
    # Input: a 28x28 plane, pixel (r, c) at index 28r + c, row 0 on top, column 0 on the left.
    y_in, z_in = layout.y[0].reshape(28, 28), layout.z[0].reshape(28, 28)
    assert np.all(np.diff(z_in, axis=0) < 0) and np.all(np.diff(y_in, axis=1) > 0)
    assert layout.labels[0][28 * 3 + 5] == "pixel (3, 5)"
    assert (len(np.unique(layout.y[1])), len(np.unique(layout.z[1]))) == (16, 8)
    assert (len(np.unique(layout.y[2])), len(np.unique(layout.z[2]))) == (8, 8)
    assert len(np.unique(layout.y[3])) == 10 and len(np.unique(layout.z[3])) == 1
    assert layout.labels[3] == tuple(str(d) for d in range(10))
    assert layout.show_text == (False, False, False, True)
    # Each layer is a plane at its own depth.
    depths = [float(np.unique(x)[0]) for x in layout.x]
    assert all(len(np.unique(x)) == 1 for x in layout.x) and depths == sorted(depths)


def test_layout_is_cached_read_only_and_general():
    assert compute_layout([784, 128, 64, 10]) is compute_layout(MNIST)
    with pytest.raises(ValueError):
        compute_layout(MNIST).x[0][0] = 1.0
    layout = compute_layout((2, 8, 1))
    assert layout.labels[1] == tuple(f"h{i}" for i in range(1, 9))
    assert len(set(zip(layout.y[1], layout.z[1]))) == 8  # no two neurons share a spot
    deep = compute_layout((3, 4, 4, 2))
    assert deep.labels[1][0] == "h1.1" and deep.labels[3] == ("y0", "y1")


@pytest.mark.parametrize("sizes", [(), (5,), (3, 0, 1), ("a", 2)])
def test_layout_rejects_bad_sizes(sizes):
    with pytest.raises(InputError):
        compute_layout(sizes)


# --- full figure ------------------------------------------------------------------------------


def test_mnist_figure_has_exactly_986_neuron_markers(mnist):
    layout, _, fig = mnist
    index = compute_trace_index(layout)
    assert [t.name for t in fig.data] == list(index.names)
    neuron_traces = [fig.data[i] for i in index.neurons]
    assert sum(len(t.x) for t in neuron_traces) == 986
    assert all(t.type == "scatter3d" for t in fig.data)
    for k, t in enumerate(neuron_traces):
        assert [list(row[:2]) for row in t.customdata] == [[k, i] for i in range(MNIST[k])]
    assert list(fig.data[index.neurons[3]].text) == [str(d) for d in range(10)]


def test_marker_colour_and_size_follow_activations(mnist):
    layout, trace, fig = mnist
    acts = trace.activations
    everything = np.concatenate(acts)
    for k, a in enumerate(acts):
        marker = fig.data[k].marker
        np.testing.assert_allclose(marker.color, a, atol=1e-4)
        values = np.asarray(fig.data[k].customdata, dtype=float)[:, 2:]
        expected = [trace.input] if k == 0 else [trace.layers[k - 1].z, trace.layers[k - 1].a]
        np.testing.assert_allclose(values, np.column_stack(expected), atol=1e-4)  # what the hover shows
        assert marker.cmin == pytest.approx(min(0.0, everything.min()))
        assert marker.cmax == pytest.approx(everything.max())
        assert [list(s) for s in marker.colorscale] == [list(s) for s in SEQUENTIAL_SCALE]
        sizes = np.asarray(marker.size)
        order = np.argsort(np.abs(a), kind="stable")
        assert np.all(np.diff(sizes[order]) >= -1e-12), "a bigger |a| must never give a smaller marker"
        if np.ptp(np.abs(a)) > 0:
            assert sizes[np.argmax(np.abs(a))] > sizes[np.argmin(np.abs(a))]
    assert "z = %{customdata[2]" in fig.data[1].hovertemplate and "a = %{customdata[3]" in fig.data[1].hovertemplate


def test_mnist_edge_counts(mnist):
    layout, _, fig = mnist
    index = compute_trace_index(layout)
    per_pair = [sum(len(as_sent(fig.data[i].x)) // 3 for i in buckets) for buckets in index.edges]
    assert per_pair == [128 * 3, 64 * 3, 10 * 3]
    assert len(fig.data[index.selected_edges].x) // 3 == 784


def test_top_k_edges_are_the_largest_contributions(mnist):
    layout, trace, fig = mnist
    index = compute_trace_index(layout)
    acts = trace.activations
    for k, buckets in enumerate(index.edges, start=1):
        chosen: dict[int, set[int]] = {}
        for i in buckets:
            for src, dst, _ in _edge_pairs(layout, k, fig.data[i]):
                chosen.setdefault(dst, set()).add(src)
        magnitude = np.abs(trace.layers[k - 1].weight * acts[k - 1][None, :])  # brute force
        assert sorted(chosen) == list(range(layout.layer_sizes[k]))
        for dst, srcs in chosen.items():
            assert len(srcs) == 3
            rest = np.delete(magnitude[dst], sorted(srcs))
            assert magnitude[dst, sorted(srcs)].min() >= rest.max()


@pytest.mark.parametrize("n_active", [0, 2, 3, 40])
def test_top_edges_of_sparse_activations_match_brute_force(n_active):
    rng = np.random.default_rng(n_active)
    weight = rng.normal(size=(32, 200)).astype(np.float32)
    a_prev = np.zeros(200)
    a_prev[rng.choice(200, n_active, replace=False)] = rng.random(n_active) + 0.1  # like a digit's few inked pixels
    top = compute_top_edges(weight, a_prev, 3)
    assert top.shape == (32, 3)
    magnitude = np.abs(weight * a_prev)
    for row, chosen in enumerate(top):
        assert len(set(chosen.tolist())) == 3
        rest = np.delete(magnitude[row], chosen)
        assert magnitude[row, chosen].min() >= rest.max()  # nothing left out beats a chosen edge


def test_edge_width_and_colour_follow_weights(mnist):
    layout, trace, fig = mnist
    index = compute_trace_index(layout)
    assert EDGE_WIDTHS[0] < EDGE_WIDTHS[1] < EDGE_WIDTHS[2]
    lut = list(DIVERGING_LUT)
    seen_buckets = set()
    for k, buckets in enumerate(index.edges, start=1):
        weight = trace.layers[k - 1].weight
        w_max = np.abs(weight).max()
        for b, i in enumerate(buckets):
            assert fig.data[i].line.width == EDGE_WIDTHS[b]
            for src, dst, color in _edge_pairs(layout, k, fig.data[i]):
                w = weight[dst, src]
                assert b / 3 <= abs(w) / w_max < (b + 1) / 3 or (b == 2 and abs(w) == w_max)
                position = lut.index(color)
                assert position > LUT_SIZE // 2 if w > 0 else position < LUT_SIZE // 2
                seen_buckets.add(b)
    assert seen_buckets == {0, 1, 2}


def test_selected_neuron_gets_all_incoming_edges_and_a_ring(mnist):
    layout, trace, fig = mnist
    index = compute_trace_index(layout)
    pairs = _edge_pairs(layout, 1, fig.data[index.selected_edges])
    assert sorted(src for src, _, _ in pairs) == list(range(784))
    assert {dst for _, dst, _ in pairs} == {5}
    ring = fig.data[index.selected_neuron]
    assert (ring.x[0], ring.y[0], ring.z[0]) == (layout.x[1][5], layout.y[1][5], layout.z[1][5])


def test_xor_draws_every_edge_and_labels():
    layout = compute_layout(XOR)
    trace = make_trace(XOR, hidden="tanh", output="sigmoid")
    fig = build_network_figure(layout, trace)
    index = compute_trace_index(layout)
    pairs = {k: [p[:2] for i in b for p in _edge_pairs(layout, k, fig.data[i])] for k, b in enumerate(index.edges, 1)}
    assert sorted(pairs[1]) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert sorted(pairs[2]) == [(0, 0), (1, 0)]
    assert list(fig.data[0].text) == ["x1", "x2"] and "text" in fig.data[0].mode
    assert fig.data[index.selected_edges].x == () and fig.data[index.selected_neuron].x == ()
    # Small nets with more than edges_per_neuron inputs still draw every edge.
    wide = compute_layout((2, 8, 1))
    fig_wide = build_network_figure(wide, make_trace((2, 8, 1), "tanh", "sigmoid"), edges_per_neuron=1)
    n_segments = sum(len(as_sent(fig_wide.data[i].x)) // 3 for b in compute_trace_index(wide).edges for i in b)
    assert n_segments == 2 * 8 + 8


def test_figure_is_valid_plotly_and_keeps_the_camera():
    layout = compute_layout(MNIST)
    fig = build_network_figure(layout, make_trace(MNIST, seed=3), selection=(2, 1))
    go.Figure(fig.to_dict())  # full validation: the fast build must not hide invalid properties
    assert fig.layout.uirevision and fig.layout.scene.uirevision
    assert fig.layout.scene.xaxis.visible is False and fig.layout.scene.zaxis.visible is False
    legend_names = [t.name for t in fig.data if t.showlegend]
    assert any("w > 0" in n for n in legend_names) and any("|w|" in n for n in legend_names)
    assert fig.data[0].marker.colorbar.title.text == "activation a"


# --- incremental update -----------------------------------------------------------------------


def test_update_matches_figure_and_never_moves_neurons():
    layout = compute_layout(MNIST)
    trace = make_trace(MNIST, seed=1)
    fig = build_network_figure(layout, trace, selection=(3, 7))
    update = compute_network_update(layout, trace, selection=(3, 7))
    index = compute_trace_index(layout)
    for k in index.neurons:
        assert not {"x", "y", "z"} & set(update[k]), "geometry is sent once, never patched"
        assert {"marker.color", "marker.size", "customdata"} <= set(update[k])
    for trace_i, props in update.items():
        for path, value in props.items():
            assert as_sent(fig.data[trace_i][path]) == as_sent(value), (trace_i, path)


@pytest.mark.parametrize("selection", [None, (0, 3), (1, 7), (3, 2)])
def test_selection_update_is_the_selection_part_of_the_full_update(selection):
    layout = compute_layout(MNIST)
    trace = make_trace(MNIST, seed=4)
    index = compute_trace_index(layout)
    full = compute_network_update(layout, trace, selection)
    only = compute_selection_update(layout, trace, selection)
    assert set(only) == {index.selected_edges, index.selected_neuron}
    for trace_i, props in only.items():
        assert {path: as_sent(v) for path, v in props.items()} == {path: as_sent(v) for path, v in full[trace_i].items()}
    with pytest.raises(InputError):
        compute_selection_update(layout, trace, (4, 0))


def test_patch_carries_no_neuron_geometry_and_follows_new_input():
    layout = compute_layout(MNIST)
    first, second = make_trace(MNIST, seed=1), make_trace(MNIST, seed=2)
    patch = build_network_patch(layout, second, selection=(1, 0)).to_plotly_json()
    operations = patch["operations"]
    locations = [tuple(op["location"]) for op in operations]
    neuron_traces = set(compute_trace_index(layout).neurons)
    assert not [loc for loc in locations if loc[1] in neuron_traces and loc[2] in ("x", "y", "z")]
    colors = {loc[1]: op["params"]["value"] for loc, op in zip(locations, operations) if loc[2:] == ("marker", "color")}
    np.testing.assert_allclose(colors[0], second.input, atol=1e-4)
    assert not np.allclose(colors[0], first.input)
    np.testing.assert_allclose(colors[3], second.layers[2].a, atol=1e-4)


def test_bad_trace_or_selection_raises_input_error():
    layout = compute_layout(XOR)
    trace = make_trace(XOR, hidden="tanh", output="sigmoid")
    with pytest.raises(InputError):
        build_network_figure(compute_layout(MNIST), trace)
    for selection in [(3, 0), (1, 2), (-1, 0), "h1", (1,)]:
        with pytest.raises(InputError):
            compute_network_update(layout, trace, selection=selection)
    with pytest.raises(InputError):
        compute_network_update(layout, trace, edges_per_neuron=0)
    assert compute_network_update(layout, trace, selection=[0, 1])  # JSON lists from a Store work
