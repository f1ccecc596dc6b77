"""The committed MNIST weights are as good as their metadata says, also on photo-like uploads."""

from __future__ import annotations

import numpy as np

from singularity_dash.preprocess import preprocess_image
from tests.unit.test_preprocess import make_photo_like

N_PHOTOS = 200


def predict(service, images: np.ndarray) -> np.ndarray:
    """Predicted classes of (n, 784) inputs by a plain numpy forward pass over the service's weights."""
    model = service.loaded("mnist")
    a = images.astype(np.float64)
    for k, (w, b) in enumerate(zip(model.weights, model.biases)):
        a = a @ w.astype(np.float64).T + b.astype(np.float64)
        if k < len(model.weights) - 1:
            a = np.maximum(a, 0.0)
    return np.argmax(a, axis=1)


def test_final_weights_reach_97_5_percent_on_the_full_test_set(service, digits):
    assert len(digits) == 10_000
    x = digits.images.reshape(len(digits), -1) / 255.0
    accuracy = float(np.mean(predict(service, x) == digits.labels))
    assert accuracy >= 0.975, f"test accuracy {accuracy:.4f}"
    # The metadata's claim is the same measurement.
    assert abs(accuracy - service.describe("mnist")["checkpoints"][-1]["test_accuracy"]) < 0.002


def test_numpy_forward_matches_the_service(service, digits):
    x = digits.pixels(7)
    trace = service.forward("mnist", x)
    assert predict(service, x[None, :])[0] == trace.prediction


def test_photo_like_jpegs_are_predicted_right_after_preprocessing(service, digits):
    rng = np.random.default_rng(2024)
    picks = rng.choice(len(digits), size=N_PHOTOS, replace=False)
    right_on_originals = predict(service, digits.images[picks].reshape(N_PHOTOS, -1) / 255.0) == digits.labels[picks]
    inputs = np.stack([preprocess_image(make_photo_like(digits.images[i], rng)).reshape(-1) for i in picks])
    right = predict(service, inputs) == digits.labels[picks]
    assert right.mean() >= 0.95, f"{right.mean():.3f} right after preprocessing ({right_on_originals.mean():.3f} on originals)"
