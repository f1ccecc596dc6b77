"""The service's traces equal an independent numpy forward pass; weights are verified on load."""

import shutil

import numpy as np
import pytest

from singularity_dash.errors import InputError
from singularity_dash.service import ModelService, UnknownModel
from singularity_dash.weights_io import WeightsError

ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "softmax": lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(),
}


def numpy_forward(weights, biases, activations, x):
    """Independent recomputation: z = W @ a_prev + b, a = f(z), in float64."""
    a = np.asarray(x, dtype=np.float64)
    layers = []
    for W, b, name in zip(weights, biases, activations):
        z = W.astype(np.float64) @ a + b.astype(np.float64)
        a = ACTIVATIONS[name](z)
        layers.append((z, a))
    return layers


def read_state(path):
    import torch

    state = torch.load(path, weights_only=True)
    count = len(state) // 2
    weights = [state[f"linears.{i}.weight"].numpy() for i in range(count)]
    biases = [state[f"linears.{i}.bias"].numpy() for i in range(count)]
    return weights, biases


@pytest.mark.parametrize("x", [[0, 0], [0, 1], [1, 0], [1, 1], [0.3, 0.8]])
def test_xor_trace_matches_numpy(service, x):
    weights, biases = read_state(service.models_dir / "xor.pt")
    trace = service.forward("xor", x)
    expected = numpy_forward(weights, biases, ["tanh", "sigmoid"], x)
    for layer, (z, a) in zip(trace.layers, expected):
        np.testing.assert_allclose(layer.z, z, atol=1e-5)
        np.testing.assert_allclose(layer.a, a, atol=1e-5)
    assert trace.probabilities.sum() == pytest.approx(1.0)
    assert trace.probabilities[1] == pytest.approx(expected[-1][1][0], abs=1e-6)


def test_xor_truth_table_rows_are_right_with_margin(service):
    for (x1, x2), target in {(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 0}.items():
        p = service.forward("xor", [x1, x2]).probabilities[1]
        assert (p > 0.9) if target else (p < 0.1), (x1, x2, p)


def test_mnist_trace_matches_numpy_for_every_checkpoint(service):
    rng = np.random.default_rng(0)
    x = rng.random(784).astype(np.float32)
    for checkpoint in [c["id"] for c in service.checkpoints("mnist")] + ["final"]:
        loaded = service.loaded("mnist", checkpoint)
        path = service.models_dir / next(
            (c["file"] for c in service.checkpoints("mnist") if c["id"] == checkpoint), "mnist.pt"
        )
        weights, biases = read_state(path)
        np.testing.assert_array_equal(loaded.weights[0], weights[0])
        trace = service.forward("mnist", x, checkpoint)
        expected = numpy_forward(weights, biases, ["relu", "relu", "softmax"], x)
        assert [layer.z.shape for layer in trace.layers] == [(128,), (64,), (10,)]
        for layer, (z, a) in zip(trace.layers, expected):
            np.testing.assert_allclose(layer.z, z, atol=1e-5)
            np.testing.assert_allclose(layer.a, a, atol=1e-5)
        assert trace.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        assert trace.prediction == int(np.argmax(expected[-1][1]))


def test_checkpoints_run_from_random_init_to_final(service):
    checkpoints = service.checkpoints("mnist")
    assert 5 <= len(checkpoints) <= 8
    accuracies = [c["test_accuracy"] for c in checkpoints]
    assert accuracies[0] < 0.3 and accuracies[-1] >= 0.975
    assert checkpoints[-1]["sha256"] == service.metadata["mnist"]["weights"]["sha256"]


def test_bad_inputs_raise_input_error(service):
    with pytest.raises(InputError, match="784"):
        service.forward("mnist", [0.5] * 10)
    with pytest.raises(InputError, match="NaN"):
        service.forward("xor", [float("nan"), 0])
    with pytest.raises(UnknownModel):
        service.forward("resnet", [0, 0])
    with pytest.raises(UnknownModel, match="checkpoint"):
        service.forward("mnist", [0.0] * 784, "c99")


def _copy_models(tmp_path, service):
    target = tmp_path / "models"
    shutil.copytree(service.models_dir, target)
    return target


def test_tampered_weights_refused_naming_the_file(tmp_path, service):
    models = _copy_models(tmp_path, service)
    data = bytearray((models / "xor.pt").read_bytes())
    data[-30] ^= 0xFF
    (models / "xor.pt").write_bytes(bytes(data))
    with pytest.raises(WeightsError, match=r"xor\.pt.*sha256"):
        ModelService(models)


def test_truncated_checkpoint_refused_naming_the_file(tmp_path, service):
    models = _copy_models(tmp_path, service)
    victim = sorted((models / "mnist-checkpoints").iterdir())[1]
    victim.write_bytes(victim.read_bytes()[:1000])
    with pytest.raises(WeightsError, match=victim.name):
        ModelService(models)


def test_missing_weights_refused_naming_the_file(tmp_path, service):
    models = _copy_models(tmp_path, service)
    (models / "mnist.pt").unlink()
    with pytest.raises(WeightsError, match=r"mnist\.pt is missing"):
        ModelService(models)


def test_pickled_payload_with_matching_checksum_is_refused(tmp_path, service):
    """Even a file whose checksum was updated is loaded weights_only: a pickle payload cannot run."""
    import json
    import pickle

    from singularity_dash.weights_io import compute_sha256

    models = _copy_models(tmp_path, service)

    marker = tmp_path / "payload-ran"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (models / "xor.pt").write_bytes(pickle.dumps({"linears.0.weight": Exploit()}))
    meta = json.loads((models / "xor.json").read_text())
    meta["weights"]["sha256"] = compute_sha256(models / "xor.pt")
    (models / "xor.json").write_text(json.dumps(meta))
    with pytest.raises(WeightsError, match="xor.pt could not be read"):
        ModelService(models, names=["xor"])
    assert not marker.exists()
