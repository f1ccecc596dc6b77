"""Property tests of the JSON API's input validation: whatever a client sends, the answer is JSON and never a 5xx.

The oracle for a list of numbers is written out here independently of the validator: a vector is
accepted iff it has exactly the model's input length and every entry is a non-boolean finite number
in [0, 1]. Accepted vectors must give probabilities that sum to 1 and match a plain numpy forward pass.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from singularity_dash.app import create_app
from singularity_dash.config import Config

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SIZES = {"xor": 2, "mnist": 784}
SMALL_LIMIT = 4_000  # bytes; a tiny upload limit so "huge" bodies stay cheap to generate
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=8), children, max_size=6),
    max_leaves=30,
)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0.0, max_value=1.0),
    st.integers(min_value=-3, max_value=3),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.booleans(),
)


def _make_app(tmp_path_factory, **changes):
    config = Config(models_dir=PROJECT_ROOT / "models", extra={"jobs_dir": str(tmp_path_factory.mktemp("jobs"))})
    return create_app(config.with_changes(**changes))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return _make_app(tmp_path_factory)


@pytest.fixture(scope="module")
def client(app):
    return app.server.test_client()


@pytest.fixture(scope="module")
def small_client(tmp_path_factory):
    """An app whose upload limit is SMALL_LIMIT bytes (so MAX_CONTENT_LENGTH is twice that)."""
    return _make_app(tmp_path_factory, max_upload_bytes=SMALL_LIMIT).server.test_client()


@pytest.fixture(scope="module")
def weights(app):
    """(weights, biases, activations) per model, read from the running app's service."""
    service = app.server.extensions["singularity"]["service"]
    return {
        name: (service.loaded(name).weights, service.loaded(name).biases, service.spec(name).layer_activations)
        for name in SIZES
    }


def numpy_probabilities(weights, biases, activations, x) -> np.ndarray:
    """Forward pass in plain float64 numpy, independent of the service."""
    a = np.asarray(x, dtype=np.float32).astype(np.float64)
    for w, b, activation in zip(weights, biases, activations):
        z = w.astype(np.float64) @ a + b.astype(np.float64)
        if activation == "relu":
            a = np.maximum(z, 0.0)
        elif activation == "tanh":
            a = np.tanh(z)
        elif activation == "sigmoid":
            a = 1.0 / (1.0 + np.exp(-z))
        else:  # softmax
            e = np.exp(z - z.max())
            a = e / e.sum()
    return np.array([1.0 - a[0], a[0]]) if activations[-1] == "sigmoid" else a


def is_valid_number(v) -> bool:
    """The contract: a JSON number (not a boolean) that is finite and within [0, 1]."""
    if isinstance(v, bool):
        return False
    return math.isfinite(v) and 0 <= v <= 1


def post_raw(client, model: str, body: bytes | str, content_type: str = "application/json"):
    return client.post(f"/api/models/{model}/forward", data=body, content_type=content_type)


def assert_json_client_error(response, allowed=(400,)):
    assert response.status_code in allowed, (response.status_code, response.get_data()[:300])
    body = response.get_json(silent=True)
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], response.get_data()[:300]
    assert body["status"] == response.status_code


@PROPERTY
@given(model=st.sampled_from(sorted(SIZES)), value=json_values)
def test_any_json_body_answers_json_and_never_5xx(client, model, value):
    response = post_raw(client, model, json.dumps(value))
    assert response.status_code < 500
    if response.status_code != 200:
        assert_json_client_error(response)


@PROPERTY
@given(model=st.sampled_from(sorted(SIZES)), value=json_values)
def test_any_json_input_field_answers_json_and_never_5xx(client, model, value):
    response = post_raw(client, model, json.dumps({"input": value}))
    # Only a list of exactly the right length could pass; random nested values almost never do.
    if not (isinstance(value, list) and len(value) == SIZES[model] and all(map(_is_plain_number, value))):
        assert_json_client_error(response)


def _is_plain_number(v) -> bool:
    return isinstance(v, (int, float)) and is_valid_number(v)


@PROPERTY
@given(data=st.data(), model=st.sampled_from(sorted(SIZES)))
def test_numeric_vectors_accepted_exactly_when_valid(client, weights, data, model):
    n = SIZES[model]
    length = data.draw(st.sampled_from([0, 1, n - 1, n, n, n, n + 1]), label="length")
    if length == n and model == "mnist":
        # Mostly valid pixels with at most a few arbitrary numbers planted in, so both outcomes occur.
        values = data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n), label="pixels")
        for i, v in data.draw(st.lists(st.tuples(st.integers(0, n - 1), numbers), max_size=3), label="planted"):
            values[i] = v
    else:
        values = data.draw(st.lists(numbers, min_size=length, max_size=length), label="values")
    response = post_raw(client, model, json.dumps({"input": values}))
    if length == n and all(map(is_valid_number, values)):
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        probabilities = np.array(body["probabilities"])
        assert np.isfinite(probabilities).all() and (probabilities >= 0).all()
        assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        expected = numpy_probabilities(*weights[model], values)
        np.testing.assert_allclose(probabilities, expected, atol=1e-5)
        assert body["prediction"] == int(np.argmax(body["probabilities"]))
    else:
        assert_json_client_error(response)


@PROPERTY
@given(
    x=st.lists(st.floats(0.0, 1.0, width=32), min_size=2, max_size=2),
)
def test_valid_xor_vectors_always_give_probabilities_summing_to_one(client, weights, x):
    response = post_raw(client, "xor", json.dumps({"input": x}))
    assert response.status_code == 200
    body = response.get_json()
    assert sum(body["probabilities"]) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(body["probabilities"], numpy_probabilities(*weights["xor"], x), atol=1e-6)
    assert [layer["size"] for layer in body["layers"]] == [2, 1]


@PROPERTY
@given(model=st.sampled_from(sorted(SIZES)), body=st.binary(max_size=300) | st.text(max_size=300))
def test_arbitrary_bytes_as_json_never_5xx(client, model, body):
    response = post_raw(client, model, body)
    assert response.status_code < 500
    if response.status_code != 200:
        assert_json_client_error(response)


@PROPERTY
@given(
    model=st.sampled_from(sorted(SIZES)),
    content_type=st.sampled_from(
        ["text/plain", "application/xml", "application/x-www-form-urlencoded", "image/png", "application/octet-stream",
         "multipart/form-data", "multipart/form-data; boundary=zzz", "application/json; charset=utf-999", ""]
    )
    | st.text(max_size=40),
    body=st.binary(max_size=200),
)
def test_wrong_content_types_answer_json_4xx(client, model, content_type, body):
    try:
        response = post_raw(client, model, body, content_type)
    except ValueError:
        assume(False)  # the test client itself refuses some header strings (newlines); a real server never sees them
    assert response.status_code < 500
    if response.status_code != 200:
        assert_json_client_error(response)


@PROPERTY
@given(image=st.binary(max_size=2_000), filename=st.text(max_size=20))
def test_arbitrary_uploads_through_the_api_never_5xx(client, image, filename):
    response = client.post(
        "/api/models/mnist/forward",
        data={"image": (io.BytesIO(image), filename or "x.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code < 500
    if response.status_code != 200:
        assert_json_client_error(response)


@PROPERTY
@given(size=st.integers(min_value=2 * SMALL_LIMIT + 1, max_value=20 * SMALL_LIMIT), multipart=st.booleans())
def test_bodies_over_the_limit_answer_413_json(small_client, size, multipart):
    if multipart:
        response = small_client.post(
            "/api/models/mnist/forward",
            data={"image": (io.BytesIO(b"\x89PNG" + b"0" * size), "big.png")},
            content_type="multipart/form-data",
        )
    else:
        response = post_raw(small_client, "mnist", b"[" + b"0," * (size // 2) + b"0]")
    assert_json_client_error(response, allowed=(413,))


@PROPERTY
@given(size=st.integers(min_value=SMALL_LIMIT + 1, max_value=2 * SMALL_LIMIT - 400))
def test_upload_between_file_limit_and_body_limit_is_refused_by_the_api_check(small_client, size):
    """The body fits MAX_CONTENT_LENGTH but the file is over the upload limit: 400 naming the size."""
    response = small_client.post(
        "/api/models/mnist/forward",
        data={"image": (io.BytesIO(b"\x89PNG" + b"0" * size), "big.png")},
        content_type="multipart/form-data",
    )
    assert_json_client_error(response)
    assert "larger" in response.get_json()["error"]


@pytest.mark.parametrize("depth", [1_000, 5_000, 100_000])
def test_deeply_nested_json_answers_400_not_500(client, depth):
    for body in ("[" * depth + "]" * depth, '{"input": ' + "[" * depth + "]" * depth + "}"):
        response = post_raw(client, "xor", body)
        assert_json_client_error(response)


def test_a_valid_request_still_works_after_hostile_ones(client, weights):
    post_raw(client, "xor", "[" * 50_000)
    post_raw(client, "xor", b"\xff\xfe\x00")
    response = post_raw(client, "xor", json.dumps({"input": [0, 1]}))
    assert response.status_code == 200
    np.testing.assert_allclose(
        response.get_json()["probabilities"], numpy_probabilities(*weights["xor"], [0, 1]), atol=1e-6
    )


@PROPERTY
@given(model=st.sampled_from(sorted(SIZES)), body=st.binary(max_size=100), oversized=st.booleans())
def test_every_api_answer_carries_the_security_headers(small_client, model, body, oversized):
    payload = b"0" * (2 * SMALL_LIMIT + 1) if oversized else body
    response = post_raw(small_client, model, payload)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Referrer-Policy"]
