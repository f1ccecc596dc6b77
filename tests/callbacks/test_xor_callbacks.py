"""The /xor page's callbacks and their helpers, called directly (no browser)."""

import importlib
import json

import dash
import numpy as np
import pytest
from dash import html

from singularity_dash.app import create_app
from singularity_dash.errors import InputError
from singularity_dash.figures.surfaces import CURRENT_INPUT_TRACE
from singularity_dash.notes import format_number
from singularity_dash.xor_training import TRUTH_TABLES, TrainingConfig, result_to_store, train_network


@pytest.fixture
def app(app_config):
    return create_app(app_config)


@pytest.fixture
def page(app):
    """The page module as the app registered it."""
    return importlib.import_module("pages.xor")


@pytest.fixture(scope="module")
def trained_store():
    """A stored 2-3-1 ReLU run on XOR, as the browser would hold it (JSON round trip)."""
    result = train_network(TrainingConfig(hidden_size=3, activation="relu", lr=0.5, epochs=600, seed=4))
    return json.loads(json.dumps(result_to_store(result)))


def _find(component, element_id):
    """The component with this id inside a Dash component tree (None if absent)."""
    if getattr(component, "id", None) == element_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if hasattr(child, "to_plotly_json"):
            found = _find(child, element_id)
            if found is not None:
                return found
    return None


def _numpy_neuron(weights, biases, activation, x, layer, index):
    """z and a of one neuron by an independent numpy forward pass."""
    acts = {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0), "sigmoid": lambda v: 1 / (1 + np.exp(-v))}
    h_z = np.asarray(weights[0]) @ x + np.asarray(biases[0])
    if layer == 1:
        return float(h_z[index]), float(acts[activation](h_z)[index])
    z = np.asarray(weights[1]) @ acts[activation](h_z) + np.asarray(biases[1])
    return float(z[0]), float(acts["sigmoid"](z)[0])


@pytest.mark.parametrize("x, neuron", [((0.0, 1.0), (1, 0)), ((1.0, 1.0), (1, 1)), ((0.3, 0.7), (2, 0))])
def test_render_view_inspector_matches_numpy_for_the_pretrained_model(app, page, service, x, neuron):
    with app.server.app_context():
        out = page.render_view(x[0], x[1], f"{neuron[0]}-{neuron[1]}", None, 0, None)
    figure, prediction, target, inspector, rows, _style, notes, anim, source, key = out
    loaded = service.loaded("xor")
    z, a = _numpy_neuron(loaded.weights, loaded.biases, "tanh", np.array(x), *neuron)
    assert _find(inspector, "xor-inspector-z").children == format_number(z)
    assert _find(inspector, "xor-inspector-a").children == format_number(a)
    assert _find(inspector, "xor-inspector-bias").children == format_number(
        float(loaded.biases[neuron[0] - 1][neuron[1]]))
    _, p = _numpy_neuron(loaded.weights, loaded.biases, "tanh", np.array(x), 2, 0)
    assert prediction.endswith(f"P(y = 1) = {format_number(p)}.")
    assert len(figure.data) > 0 and key == "2-2-1-tanh"
    assert notes is not dash.no_update
    assert [r["label"] for r in rows] == ["x1", "x2", "h1", "h2", "y"]
    assert anim["count"] == 7 and "pretrained" in source


def test_render_view_sends_a_patch_when_the_architecture_is_unchanged(app, page):
    with app.server.app_context():
        out = page.render_view(1, 0, None, None, 0, "2-2-1-tanh")
    assert isinstance(out[0], dash.Patch)
    assert out[6] is dash.no_update
    assert _find(out[3], "xor-inspector-empty") is not None


def test_render_view_shows_a_browser_trained_snapshot(app, page, trained_store):
    snap_index = 10
    with app.server.app_context():
        out = page.render_view(1, 0, "1-2", trained_store, snap_index, "2-2-1-tanh")
    figure, _, _, inspector, rows, *_rest, source, key = out
    assert key == "2-3-1-relu" and not isinstance(figure, dash.Patch)  # new architecture: whole figure
    snap = trained_store["snapshots"][snap_index]
    z, a = _numpy_neuron(snap["weights"], snap["biases"], "relu", np.array([1.0, 0.0]), 1, 2)
    assert _find(inspector, "xor-inspector-z").children == format_number(z)
    assert _find(inspector, "xor-inspector-a").children == format_number(a)
    assert f"epoch {snap['epoch']} of 600" in source
    assert len(rows) == 2 + 3 + 1


def _numpy_surfaces(weights, biases, activation, resolution):
    """Every hidden neuron's and the output's activation over the grid, by an independent numpy pass."""
    acts = {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0), "sigmoid": lambda v: 1 / (1 + np.exp(-v))}
    grid = np.linspace(0.0, 1.0, resolution)
    points = np.stack(np.meshgrid(grid, grid), axis=-1)  # [row, col] = (x1 = grid[col], x2 = grid[row])
    hidden = acts[activation](points @ np.asarray(weights[0]).T + np.asarray(biases[0]))
    output = acts["sigmoid"](hidden @ np.asarray(weights[1]).T + np.asarray(biases[1]))
    return [hidden[..., j] for j in range(hidden.shape[-1])] + [output[..., 0]]


def _callbacks_reading(app, component_id, prop):
    """(server Inputs, server States, clientside Inputs): the callbacks the browser runs when this prop changes."""
    deps = app.server.test_client().get("/_dash-dependencies").get_json()
    server_inputs, server_states, clientside = set(), set(), set()
    for dep in deps:
        reads = lambda items: any(i["id"] == component_id and i["property"] == prop for i in items)  # noqa: E731
        if dep["clientside_function"]:
            if reads(dep["inputs"]):
                clientside.add(dep["output"])
        elif reads(dep["inputs"]):
            server_inputs.add(dep["output"])
        elif reads(dep["state"]):
            server_states.add(dep["output"])
    return server_inputs, server_states, clientside


def test_an_input_change_costs_one_server_callback(app):
    # Surfaces follow the weights (x1/x2 only as State); the star and the address bar move in the browser,
    # so on the server a slider fires render_view alone.
    for slider in ("xor-x1", "xor-x2"):
        server, states, clientside = _callbacks_reading(app, slider, "value")
        assert len(server) == 1 and "xor-graph.figure" in next(iter(server)), server
        assert "xor-surfaces.children" in states
        assert {'{"index":["ALL"],"type":"xor-surface"}.figure', "xor-url.search"} <= clientside
    weight_readers, _, _ = _callbacks_reading(app, "xor-model", "data")
    assert {"xor-surfaces.children", "xor-histograms.children"} <= weight_readers


def test_the_star_follows_a_surface_rebuild_too(app):
    # A rebuild that raced a slider move carries an old State: the browser re-places the star afterwards.
    _, _, clientside = _callbacks_reading(app, "xor-surfaces", "children")
    assert clientside == {'{"index":["ALL"],"type":"xor-surface"}.figure'}


@pytest.mark.parametrize("x1, x2", [(0.0, 1.0), (0.37, 0.81)])
def test_surfaces_match_numpy_and_mark_the_current_input(app, page, service, x1, x2):
    with app.server.app_context():
        cols = page.render_surfaces(None, 0, x1, x2)
    loaded = service.loaded("xor")
    expected = _numpy_surfaces(loaded.weights, loaded.biases, "tanh", page.SURFACE_RESOLUTION)
    assert len(cols) == len(expected) == 3
    for i, (col, z) in enumerate(zip(cols, expected)):
        graph = col.children
        assert graph.id == {"type": "xor-surface", "index": i}
        heat, star = graph.figure.data[0], graph.figure.data[CURRENT_INPUT_TRACE]
        np.testing.assert_allclose(np.asarray(heat.z), z, rtol=1e-12, atol=1e-12)
        assert star.name == "current input" and (star.x[0], star.y[0]) == (x1, x2)
        assert graph.figure.layout.height == 260 and graph.figure.layout.showlegend is False
    assert "decision boundary" in cols[-1].children.figure.layout.title.text


def test_surfaces_follow_a_browser_trained_snapshot(app, page, trained_store):
    snap_index = 10
    with app.server.app_context():
        cols = page.render_surfaces(trained_store, snap_index, None, 0.5)  # no x1 yet: the star sits at 0
    snap = trained_store["snapshots"][snap_index]
    expected = _numpy_surfaces(snap["weights"], snap["biases"], "relu", page.SURFACE_RESOLUTION)
    assert len(cols) == 4
    for col, z in zip(cols, expected):
        np.testing.assert_allclose(np.asarray(col.children.figure.data[0].z), z, rtol=1e-12, atol=1e-12)
        star = col.children.figure.data[CURRENT_INPUT_TRACE]
        assert (star.x[0], star.y[0]) == (0.0, 0.5)


def test_histograms_follow_the_selection_not_the_input(app, page, service):
    with app.server.app_context():
        graphs = page.render_histograms("1-1", None, 0)
        unselected = page.render_histograms(None, None, 0)
        missing = page.render_histograms("1-7", None, 0)  # a neuron this network lacks: nothing marked
    loaded = service.loaded("xor")
    assert [g.id for g in graphs] == ["xor-histogram-1", "xor-histogram-2"]
    hidden = graphs[0].figure
    all_w = np.asarray(loaded.weights[0], dtype=float).ravel()
    marked = np.asarray(loaded.weights[0][1], dtype=float)
    limit = np.abs(all_w).max()
    edges = np.linspace(-limit, limit, 13)
    np.testing.assert_allclose(hidden.data[0].y, np.histogram(all_w, edges)[0] / (all_w.size * np.diff(edges)))
    np.testing.assert_allclose(hidden.data[1].y, np.histogram(marked, edges)[0] / (marked.size * np.diff(edges)))
    np.testing.assert_allclose(sorted(hidden.data[2].x), sorted(marked))
    assert len(graphs[1].figure.data) == 1  # the output layer holds no selected neuron
    assert all(len(g.figure.data) == 1 for g in unselected + missing)


def test_selection_from_a_3d_click_and_from_a_table_cell(page):
    click = {"points": [{"customdata": [1, 1]}]}
    assert page.compute_selection(page.ID.graph, click, None, None) == "1-1"
    assert page.compute_selection(page.ID.table, None, {"row_id": "2-0", "row": 4, "column": 0}, "1-1") == "2-0"
    # a click on an edge (no customdata) keeps the current selection
    assert page.compute_selection(page.ID.graph, {"points": [{}]}, None, "1-0") == "1-0"


def test_training_config_from_the_form(page):
    config = page.compute_training_config(4, "sigmoid", 0.3, 100, 9, "custom", ["0, 0", "1, 1"])
    assert config == TrainingConfig(4, "sigmoid", 0.3, 100, 9, (1, 0, 0, 1))
    assert page.compute_training_config(2, "tanh", 0.5, 10, 0, "AND", None).targets == TRUTH_TABLES["AND"]
    with pytest.raises(InputError, match="learning rate"):
        page.compute_training_config(2, "tanh", None, 10, 0, "XOR", None)
    with pytest.raises(InputError, match="truth table"):
        page.compute_training_config(2, "tanh", 0.5, 10, 0, "NAND", None)


def test_replay_keeps_the_stored_seed_and_hidden_size(page, trained_store):
    form = TrainingConfig(8, "tanh", 0.1, 50, 99)
    replay = page.compute_replay_config(form, trained_store)
    assert (replay.seed, replay.hidden_size) == (4, 3)
    assert (replay.lr, replay.epochs, replay.activation) == (0.1, 50, "tanh")
    with pytest.raises(InputError, match="train a network first"):
        page.compute_replay_config(form, None)


def test_training_message_counts_the_rows_right(page, trained_store):
    message = page.build_training_message(trained_store)
    assert message.startswith("Trained a 2-3-1 relu network on XOR for 600 epochs (seed 4)")
    assert message.endswith("4 of 4 rows right.")


def test_snapshot_slider_follows_the_store(page, trained_store):
    assert page.compute_snapshot_slider(None)[3] is True
    maximum, value, marks, disabled = page.compute_snapshot_slider(trained_store)
    assert maximum == value == len(trained_store["snapshots"]) - 1 and not disabled
    assert marks[maximum] == "600" and marks[0] == "0"


def test_render_training_live_then_stored(page, trained_store):
    fig, percent, label, summary = page.render_training({"epoch": 50, "epochs": 200, "x": [1, 50], "y": [0.9, 0.5]},
                                                        None)
    assert percent == 25 and label == "25%"
    assert list(fig.data[0].x) == [1, 50]
    fig, percent, label, summary = page.render_training(None, trained_store)
    losses = trained_store["losses"]
    assert percent == 100
    assert _find(summary, "xor-loss-start").children == format_number(losses[0])
    assert _find(summary, "xor-loss-end").children == format_number(losses[-1])
    assert float(_find(summary, "xor-loss-end").children) < float(_find(summary, "xor-loss-start").children)


def test_loss_points_are_thinned_but_keep_the_ends(page):
    x, y = page.compute_loss_points(list(range(5000, 0, -1)), max_points=100)
    assert len(x) <= 100 and x[0] == 1 and x[-1] == 5000 and y[-1] == 1


def test_exports_of_the_shown_network(app, page, service, trained_store):
    with app.server.app_context():
        pretrained = page.compute_network_state(None, 0, service)
    doc = json.loads(page.compute_export(pretrained, "json", None)["content"])
    np.testing.assert_allclose(doc["weights"][0], service.loaded("xor").weights[0])
    state = page.compute_network_state(trained_store, None, service)
    payload = page.compute_export(state, "torch", None)
    assert payload["filename"] == "xor_network.py" and "nn.ReLU()" in payload["content"]


def test_hint_says_whether_the_table_needs_a_hidden_layer(page):
    assert "needs its hidden layer" in page.show_hint("XOR", None)
    assert "without a hidden layer" in page.show_hint("custom", ["1, 1"])


def test_layout_reads_a_shared_url_and_survives_a_bad_one(page):
    good = page.layout(x1="0", x2="1", neuron="1-0", step="2")
    assert _find(good, page.ID.selection).data == "1-0"
    assert _find(good, page.ID.step).data == 2
    assert _find(good, page.ID.x2).value == 1.0
    bad = page.layout(x1="7")
    alert = _find(bad, page.ID.url_error)
    assert alert.is_open and "x1 must be between 0 and 1" in alert.children
    assert isinstance(_find(bad, page.ID.title), html.H2)
