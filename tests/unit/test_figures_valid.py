"""Every figure builder's output passes plotly's own validation.

The hot builders skip validation on construction (figures/assemble.py) for speed; this is where a
misspelt property or an impossible value still fails. Plotly raises ValueError on anything invalid.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from singularity_dash.figures.charts import build_loss_curve, build_probability_bars
from singularity_dash.figures.histograms import build_weight_histogram
from singularity_dash.figures.network3d import compute_layout, build_network_figure
from singularity_dash.figures.surfaces import build_surface_figure
from singularity_dash.figures.weights import (
    build_contribution_image,
    build_digit_image,
    build_sorted_weights_bar,
    build_weight_image,
)
from tests.unit.test_figures_network3d import MNIST, XOR, make_trace

RNG = np.random.default_rng(11)
W = RNG.normal(size=(16, 784))
X = RNG.random(784)

BUILDERS = {
    "weight histogram": lambda: build_weight_histogram(W, "hidden 1", marked=W[2]),
    "weight histogram, small neuron (rug)": lambda: build_weight_histogram(W[:, :8], "hidden 2", marked=W[0, :8]),
    "weight image": lambda: build_weight_image(W[0], "weights"),
    "contribution image": lambda: build_contribution_image(W[0], X),
    "digit image": lambda: build_digit_image(X),
    "sorted weights bar": lambda: build_sorted_weights_bar(W[0, :64], W[0, :64] * X[:64], [f"h{i}" for i in range(64)], 10),
    "probability bars": lambda: build_probability_bars(np.full(10, 0.1), 3, 4),
    "loss curve": lambda: build_loss_curve(np.linspace(1.0, 0.01, 80)),
    "surface": lambda: build_surface_figure(RNG.random((9, 9)), "h1", current_input=(0.2, 0.7), targets=(0, 1, 1, 0)),
    "mnist network": lambda: build_network_figure(compute_layout(MNIST), make_trace(MNIST), selection=(1, 5)),
    "xor network": lambda: build_network_figure(compute_layout(XOR), make_trace(XOR, "tanh", "sigmoid"), selection=(2, 0)),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_figure_passes_plotly_validation(name):
    figure = BUILDERS[name]()
    assert isinstance(figure, go.Figure)
    validated = go.Figure(figure.to_plotly_json())  # raises ValueError on an invalid property or value
    assert len(validated.data) == len(figure.data) > 0


def test_validation_here_would_catch_a_misspelt_property():
    figure = build_weight_image(W[0], "weights")
    broken = figure.to_plotly_json()
    broken["data"][0]["colourscale"] = "Viridis"
    with pytest.raises(ValueError, match="colourscale"):
        go.Figure(broken)
