"""Numpy training of 2-H-1 networks on truth tables: learning, determinism, snapshots, traces and exports."""

import json

import numpy as np
import pytest

from singularity_dash.errors import InputError
from singularity_dash.xor_training import (
    INPUTS,
    SNAPSHOT_COUNT,
    TRUTH_TABLES,
    TrainingConfig,
    compute_bce_loss,
    compute_hidden_layer_hint,
    compute_initial_params,
    compute_is_linearly_separable,
    compute_outputs,
    compute_snapshot_epochs,
    compute_trace_from_weights,
    config_from_store,
    export_json,
    export_pytorch_snippet,
    iterate_training,
    load_exported_json,
    result_to_store,
    snapshot_from_store,
    train_network,
)


def _numpy_forward(weights, biases, activation, x):
    """Independent forward pass for checking: hidden activation, then sigmoid."""
    acts = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "relu": lambda z: np.maximum(z, 0)}
    x = np.asarray(x, dtype=float)
    shape = (-1, 1) if x.ndim == 2 else (-1,)  # a batch is one column per input
    h = acts[activation](np.asarray(weights[0]) @ x + np.asarray(biases[0]).reshape(shape))
    z = np.asarray(weights[1]) @ h + np.asarray(biases[1]).reshape(shape)
    return h, z, 1 / (1 + np.exp(-z))


def _predictions(result):
    last = result.snapshots[-1]
    return (compute_outputs(last.weights, last.biases, result.config.activation) > 0.5).astype(int)


def test_loss_falls_and_xor_is_learned_with_a_working_seed():
    result = train_network(TrainingConfig(hidden_size=2, activation="tanh", lr=0.5, epochs=2000, seed=0))
    assert result.losses[-1] < result.losses[0] / 10
    assert result.epochs_done == 2000
    assert tuple(_predictions(result)) == TRUTH_TABLES["XOR"]


@pytest.mark.parametrize("activation, seed", [("tanh", 5), ("sigmoid", 3), ("relu", 4)])
def test_xor_reached_with_each_activation(activation, seed):
    result = train_network(TrainingConfig(2, activation, 1.0, 3000, seed))
    assert tuple(_predictions(result)) == TRUTH_TABLES["XOR"]


@pytest.mark.parametrize("hidden", [3, 4, 8])
def test_wider_hidden_layers_learn_xor(hidden):
    result = train_network(TrainingConfig(hidden, "tanh", 0.5, 2000, 0))
    assert tuple(_predictions(result)) == TRUTH_TABLES["XOR"]


@pytest.mark.parametrize("name", ["AND", "OR"])
def test_linearly_separable_tables_are_learned_and_flagged(name):
    result = train_network(TrainingConfig(2, "tanh", 0.5, 1000, 1, TRUTH_TABLES[name]))
    assert tuple(_predictions(result)) == TRUTH_TABLES[name]
    assert compute_is_linearly_separable(TRUTH_TABLES[name])
    assert "without a hidden layer" in compute_hidden_layer_hint(TRUTH_TABLES[name])


@pytest.mark.parametrize("name", ["XOR", "XNOR"])
def test_xor_and_xnor_need_the_hidden_layer(name):
    assert not compute_is_linearly_separable(TRUTH_TABLES[name])
    assert "needs its hidden layer" in compute_hidden_layer_hint(TRUTH_TABLES[name])


def test_custom_table_is_learned():
    targets = (1, 1, 0, 1)  # NAND-like: x1 -> x2
    result = train_network(TrainingConfig(2, "tanh", 0.5, 1500, 2, targets))
    assert tuple(_predictions(result)) == targets


def test_snapshots_cover_the_run_from_epoch_0_to_the_end():
    result = train_network(TrainingConfig(epochs=2000))
    epochs = [s.epoch for s in result.snapshots]
    assert 30 <= len(epochs) <= 60
    assert len(epochs) == SNAPSHOT_COUNT
    assert epochs[0] == 0 and epochs[-1] == 2000
    assert all(a < b for a, b in zip(epochs, epochs[1:]))
    # each snapshot's loss is the loss of its weights, and the first one holds the initial weights
    for snap in result.snapshots[::10]:
        _, z, _ = _numpy_forward(snap.weights, snap.biases, "tanh", INPUTS.T)
        assert snap.loss == pytest.approx(compute_bce_loss(z.ravel(), TRUTH_TABLES["XOR"]))
    w0, b0 = compute_initial_params(2, 0)
    np.testing.assert_array_equal(result.snapshots[0].weights[0], w0[0])
    assert result.snapshots[1].loss == pytest.approx(result.losses[result.snapshots[1].epoch])


def test_short_runs_keep_every_epoch_once():
    assert compute_snapshot_epochs(5) == [0, 1, 2, 3, 4, 5]


def test_same_seed_gives_the_same_run_and_another_seed_does_not():
    a = train_network(TrainingConfig(seed=7, epochs=300))
    b = train_network(TrainingConfig(seed=7, epochs=300))
    c = train_network(TrainingConfig(seed=8, epochs=300))
    assert a.losses == b.losses
    np.testing.assert_array_equal(a.snapshots[-1].weights[0], b.snapshots[-1].weights[0])
    assert a.losses[0] != c.losses[0]


def test_iterate_training_reports_progress_and_ends_complete():
    reports = [r.epochs_done for r in iterate_training(TrainingConfig(epochs=100), report_every=25)]
    assert reports == [25, 50, 75, 100]


def test_bce_loss_matches_the_textbook_formula():
    logits = np.array([-2.0, 0.5, 3.0, -0.1])
    t = np.array([0, 1, 1, 0])
    p = 1 / (1 + np.exp(-logits))
    expected = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert compute_bce_loss(logits, t) == pytest.approx(expected)


@pytest.mark.parametrize("bad, message", [
    (dict(hidden_size=5), "hidden size"),
    (dict(activation="gelu"), "activation"),
    (dict(lr=0), "learning rate"),
    (dict(epochs=0), "epochs"),
    (dict(targets=(0, 1, 2, 0)), "targets"),
    (dict(seed=-1), "seed"),
])
def test_bad_settings_raise_clear_errors(bad, message):
    with pytest.raises(InputError, match=message):
        TrainingConfig(**bad).validated()


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_trace_from_weights_matches_numpy(activation):
    w, b = compute_initial_params(3, 11)
    x = np.array([0.3, 0.8])
    trace = compute_trace_from_weights(w, b, activation, x)
    h, z, p = _numpy_forward(w, b, activation, x)
    np.testing.assert_allclose(trace.layers[0].a, h)
    np.testing.assert_allclose(trace.layers[1].z, z)
    assert trace.probabilities[1] == pytest.approx(float(p[0]))
    assert trace.prediction == int(p[0] > 0.5)
    assert trace.layer_sizes == [2, 3, 1]


def test_trace_from_weights_rejects_bad_input():
    w, b = compute_initial_params(2, 0)
    with pytest.raises(InputError, match="two finite numbers"):
        compute_trace_from_weights(w, b, "tanh", [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="shapes"):
        compute_trace_from_weights([w[0], w[0]], b, "tanh", [0, 1])


def test_store_round_trip_keeps_config_and_snapshots():
    result = train_network(TrainingConfig(hidden_size=3, epochs=200, seed=4, targets=TRUTH_TABLES["OR"]))
    store = json.loads(json.dumps(result_to_store(result)))
    assert config_from_store(store) == result.config
    last = snapshot_from_store(store, None)
    np.testing.assert_array_equal(last.weights[1], result.snapshots[-1].weights[1])
    assert snapshot_from_store(store, 999).epoch == 200  # clamped
    assert snapshot_from_store(store, 0).epoch == 0


def test_export_json_round_trip():
    result = train_network(TrainingConfig(epochs=500))
    snap = result.snapshots[-1]
    text = export_json(snap.weights, snap.biases, "tanh", result.config)
    weights, biases, activation = load_exported_json(text)
    assert activation == "tanh"
    for got, want in zip(weights + biases, list(snap.weights) + list(snap.biases)):
        np.testing.assert_array_equal(got, want)
    doc = json.loads(text)
    assert doc["layer_sizes"] == [2, 2, 1]
    assert doc["training"]["seed"] == 0
    with pytest.raises(InputError):
        load_exported_json('{"format": "something else"}')


@pytest.mark.parametrize("activation, hidden", [("tanh", 2), ("relu", 4), ("sigmoid", 8)])
def test_pytorch_snippet_runs_and_matches_numpy(activation, hidden, capsys):
    torch = pytest.importorskip("torch")
    w, b = compute_initial_params(hidden, 3)
    code = export_pytorch_snippet(w, b, activation)
    namespace: dict = {}
    exec(compile(code, "xor_network.py", "exec"), namespace)  # noqa: S102 - the snippet is ours
    model = namespace["model"]
    with torch.no_grad():
        got = model(torch.tensor(INPUTS, dtype=torch.float32)).squeeze(1).numpy()
    _, _, p = _numpy_forward(w, b, activation, INPUTS.T)
    np.testing.assert_allclose(got, p.ravel(), rtol=1e-5, atol=1e-6)
    assert "tensor" in capsys.readouterr().out
