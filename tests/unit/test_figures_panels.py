"""Colour scales and the 2D panels: histogram, weight images, bars, charts and XOR response surfaces."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from singularity_dash.errors import InputError
from singularity_dash.figures.charts import build_loss_curve, build_probability_bars
from singularity_dash.figures.colors import (
    DIVERGING_LUT,
    DIVERGING_SCALE,
    SEQUENTIAL_LUT,
    SEQUENTIAL_SCALE,
    map_sequential_colors,
    map_signed_colors,
)
from singularity_dash.figures.histograms import build_weight_histogram
from singularity_dash.figures.surfaces import CURRENT_INPUT_TRACE, build_surface_figure, compute_response_surfaces
from singularity_dash.figures.weights import (
    build_contribution_image,
    build_digit_image,
    build_sorted_weights_bar,
    build_weight_image,
)

RNG = np.random.default_rng(7)


# --- colours ----------------------------------------------------------------------------------


def test_colour_scales_are_plotly_valid_and_symmetric():
    go.Heatmap(colorscale=DIVERGING_SCALE)
    go.Heatmap(colorscale=SEQUENTIAL_SCALE)
    assert DIVERGING_SCALE[0][0] == 0.0 and DIVERGING_SCALE[-1][0] == 1.0
    middle = DIVERGING_SCALE[len(DIVERGING_SCALE) // 2]
    assert middle[0] == pytest.approx(0.5)
    assert map_signed_colors(np.array([0.0]), 3.0)[0] == middle[1]


def test_signed_colours_map_ends_clip_and_keep_shape():
    values = np.array([[-5.0, -2.0, 0.0], [2.0, 5.0, 1.0]])
    colors = map_signed_colors(values, 2.0)
    assert colors.shape == values.shape
    assert colors[0, 0] == colors[0, 1] == DIVERGING_SCALE[0][1]  # clipped at -vmax
    assert colors[1, 0] == colors[1, 1] == DIVERGING_SCALE[-1][1]
    lut = list(DIVERGING_LUT)
    # Monotone: larger values walk further along the scale.
    positions = [lut.index(c) for c in map_signed_colors(np.linspace(-1, 1, 50), 1.0)]
    assert positions == sorted(positions) and positions[0] < positions[-1]


def test_sequential_colours_follow_value():
    colors = map_sequential_colors(np.array([0.0, 0.5, 1.0, 2.0]), 0.0, 1.0)
    assert colors[0] == SEQUENTIAL_SCALE[0][1] and colors[2] == colors[3] == SEQUENTIAL_SCALE[-1][1]
    lut = list(SEQUENTIAL_LUT)
    assert lut.index(colors[0]) < lut.index(colors[1]) < lut.index(colors[2])
    assert len(set(map_sequential_colors(np.ones(5), 1.0, 1.0))) == 1  # flat range: no crash


# --- histogram --------------------------------------------------------------------------------


def test_weight_histogram_densities_match_numpy():
    weights = RNG.normal(size=(64, 784))
    fig = build_weight_histogram(weights, "hidden 1", marked=weights[3])
    limit = np.abs(weights).max()
    edges = np.linspace(-limit, limit, 41)
    expected_all, _ = np.histogram(weights.ravel(), bins=edges, density=True)
    expected_sel, _ = np.histogram(weights[3], bins=edges, density=True)
    np.testing.assert_allclose(fig.data[0].y, expected_all)
    np.testing.assert_allclose(fig.data[1].y, expected_sel)
    np.testing.assert_allclose(fig.data[0].x, (edges[:-1] + edges[1:]) / 2)
    assert "hidden 1" in fig.layout.title.text
    assert len(fig.data) == 2  # 784 marked weights: no rug


def test_weight_histogram_rug_marks_each_weight_of_a_small_neuron():
    weights = np.array([[0.5, -1.2], [2.0, 0.1]])
    fig = build_weight_histogram(weights, "hidden 1", marked=weights[0])
    np.testing.assert_allclose(fig.data[2].x, [0.5, -1.2])
    assert len(build_weight_histogram(weights, "hidden 1").data) == 1
    with pytest.raises(InputError):
        build_weight_histogram(np.array([]), "hidden 1")
    with pytest.raises(InputError):
        build_weight_histogram(np.array([1.0, np.nan]), "hidden 1")


# --- images -----------------------------------------------------------------------------------


def test_weight_image_is_the_reshaped_weights_on_a_symmetric_scale():
    w = RNG.normal(size=784)
    fig = build_weight_image(w, "hidden 1 · h7")
    heat = fig.data[0]
    np.testing.assert_array_equal(np.asarray(heat.z), w.reshape(28, 28))
    assert heat.zmin == pytest.approx(-np.abs(w).max()) and heat.zmax == pytest.approx(np.abs(w).max())
    assert [list(s) for s in heat.colorscale] == [list(s) for s in DIVERGING_SCALE]
    assert fig.layout.yaxis.autorange == "reversed"  # row 0 on top, as in the digit
    assert fig.layout.title.text == "hidden 1 · h7"


def test_contribution_and_digit_images():
    w, x = RNG.normal(size=784), RNG.random(784)
    contrib = build_contribution_image(w, x).data[0]
    np.testing.assert_allclose(np.asarray(contrib.z), (w * x).reshape(28, 28))
    assert contrib.zmin == pytest.approx(-contrib.zmax)
    digit = build_digit_image(x).data[0]
    np.testing.assert_array_equal(np.asarray(digit.z), x.reshape(28, 28))
    assert (digit.zmin, digit.zmax) == (0.0, 1.0)
    for bad in (np.zeros(783), np.full(784, np.inf)):
        with pytest.raises(InputError):
            build_digit_image(bad)


def test_sorted_weights_bar_orders_weights_and_outlines_top_contributors():
    w = RNG.normal(size=64)
    a = RNG.random(64)
    labels = [f"h1.{i + 1}" for i in range(64)]
    fig = build_sorted_weights_bar(w, w * a, labels, top=5)
    bar = fig.data[0]
    order = np.argsort(-w)
    np.testing.assert_allclose(bar.y, w[order])
    assert list(bar.x) == [labels[i] for i in order]
    outlined = {bar.x[i] for i, width in enumerate(bar.marker.line.width) if width > 0}
    brute = {labels[i] for i in np.argsort(-np.abs(w * a))[:5]}
    assert outlined == brute
    with pytest.raises(InputError):
        build_sorted_weights_bar(w, w[:3], labels)


# --- charts -----------------------------------------------------------------------------------


def test_probability_bars_mark_prediction_and_true_label():
    p = RNG.dirichlet(np.ones(10))
    prediction = int(np.argmax(p))
    fig = build_probability_bars(p, prediction, true_label=(prediction + 1) % 10)
    bar = fig.data[0]
    np.testing.assert_allclose(bar.y, p)
    assert list(bar.x) == [str(d) for d in range(10)]
    colors = list(bar.marker.color)
    assert colors.count(colors[prediction]) == 1
    widths = np.asarray(bar.marker.line.width)
    assert widths[(prediction + 1) % 10] > 0 and widths.sum() == widths[(prediction + 1) % 10]
    with pytest.raises(InputError):
        build_probability_bars(p, 10)


def test_loss_curve_plots_every_step():
    losses = [0.9, 0.5, 0.2, 0.05]
    fig = build_loss_curve(losses)
    np.testing.assert_allclose(fig.data[0].y, losses)
    np.testing.assert_array_equal(fig.data[0].x, [1, 2, 3, 4])
    assert fig.layout.yaxis.type == "log"  # spans more than a factor of 10
    assert build_loss_curve([0.7, 0.6]).layout.yaxis.type == "linear"
    assert len(build_loss_curve([]).layout.annotations) == 1
    with pytest.raises(InputError):
        build_loss_curve([0.3, float("nan")])


# --- response surfaces ------------------------------------------------------------------------


def _hand_forward(weights, biases, activations, x1, x2):
    """Scalar forward pass, one neuron at a time, with the math module."""
    funcs = {
        "tanh": math.tanh,
        "sigmoid": lambda v: 1.0 / (1.0 + math.exp(-v)),
        "relu": lambda v: max(v, 0.0),
    }
    a, out = [x1, x2], []
    for w, b, name in zip(weights, biases, activations):
        a = [funcs[name](sum(w[i][j] * a[j] for j in range(len(a))) + b[i]) for i in range(len(b))]
        out.extend(a)
    return out


@pytest.mark.parametrize("hidden", ["tanh", "sigmoid", "relu"])
def test_surfaces_equal_a_hand_forward_at_grid_points(hidden):
    weights = [RNG.normal(size=(3, 2)) * 3, RNG.normal(size=(1, 3))]
    biases = [RNG.normal(size=3), RNG.normal(size=1)]
    activations = [hidden, "sigmoid"]
    surfaces = compute_response_surfaces(weights, biases, activations, resolution=11)
    assert len(surfaces) == 4 and all(s.shape == (11, 11) for s in surfaces)
    for r, c in [(0, 0), (0, 10), (10, 0), (7, 3), (5, 5)]:
        x1, x2 = c / 10, r / 10  # columns follow x1, rows follow x2
        expected = _hand_forward(weights, biases, activations, x1, x2)
        got = [s[r, c] for s in surfaces]
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_surfaces_reject_bad_shapes():
    with pytest.raises(InputError):
        compute_response_surfaces([np.ones((2, 3))], [np.ones(2)], ["tanh"])
    with pytest.raises(InputError):
        compute_response_surfaces([np.ones((2, 2))], [np.ones(2)], ["swish"])
    with pytest.raises(InputError):
        compute_response_surfaces([np.ones((2, 2))], [np.ones(2)], ["tanh"], resolution=1)


def test_surface_figure_marks_xor_points_and_current_input():
    surface = RNG.random((21, 21))
    fig = build_surface_figure(surface, "h1", current_input=(0.25, 0.75), targets=[0, 1, 1, 0])
    heat, points, current = fig.data
    assert fig.data[CURRENT_INPUT_TRACE] is current and current.name == "current input"
    np.testing.assert_array_equal(np.asarray(heat.z), surface)
    np.testing.assert_allclose(heat.x, np.linspace(0, 1, 21))
    assert list(zip(points.x, points.y)) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    colors = list(points.marker.color)
    assert colors[0] == colors[3] != colors[1] == colors[2]
    assert (current.x[0], current.y[0]) == (0.25, 0.75)
    assert len(build_surface_figure(surface, "h1").data) == 2
    with pytest.raises(InputError):
        build_surface_figure(surface, "h1", targets=[0, 1, 2, 0])
    with pytest.raises(InputError):
        build_surface_figure(np.ones((3, 4)), "h1")
    with pytest.raises(InputError, match="current input"):
        build_surface_figure(surface, "h1", current_input=(0.5, float("nan")))


def test_surface_figure_colour_range_and_layout_overrides():
    surface = RNG.random((11, 11))
    fig = build_surface_figure(surface, "h1", value_range=(-1.0, 1.0),
                               layout={"height": 260, "margin": {"l": 35, "r": 5, "t": 35, "b": 30}})
    assert (fig.data[0].zmin, fig.data[0].zmax) == (-1.0, 1.0)
    assert fig.layout.height == 260 and fig.layout.margin.l == 35 and fig.layout.margin.b == 30
    assert fig.layout.title.text == "h1" and fig.layout.yaxis.scaleanchor == "x"  # the defaults stay
    flat = build_surface_figure(np.full((5, 5), 0.3), "flat")  # a constant surface still gets a usable range
    assert (flat.data[0].zmin, flat.data[0].zmax) == (0.3, 1.3)
    assert build_surface_figure(surface, "h1").layout.height is None
