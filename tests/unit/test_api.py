"""The JSON API: happy paths for both models, clear 400s, 404 for an unknown model, never a 500."""

import io

import numpy as np
import pytest
from PIL import Image

from singularity_dash.app import create_app
from singularity_dash.api import CACHE_HEADER


@pytest.fixture
def client(app_config):
    return create_app(app_config).server.test_client()


def test_models_lists_both_with_sizes_and_metrics(client):
    body = client.get("/api/models").get_json()
    models = {m["name"]: m for m in body["models"]}
    assert models["xor"]["layer_sizes"] == [2, 2, 1]
    assert models["xor"]["parameters"] == 2 * 2 + 2 + 2 * 1 + 1
    assert models["mnist"]["layer_sizes"] == [784, 128, 64, 10]
    assert models["mnist"]["parameters"] == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert models["mnist"]["metrics"]["test_accuracy"] >= 0.975
    assert len(models["mnist"]["checkpoints"]) >= 5


def test_healthz_names_loaded_models(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["models"] == ["xor", "mnist"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_xor_forward_matches_service_and_reports_cache(client, service):
    first = client.post("/api/models/xor/forward", json={"input": [1, 0]})
    assert first.status_code == 200
    body = first.get_json()
    expected = service.forward("xor", [1, 0])
    assert body["prediction"] == 1
    np.testing.assert_allclose(body["layers"][0]["z"], expected.layers[0].z, atol=1e-6)
    np.testing.assert_allclose(body["probabilities"], expected.probabilities, atol=1e-6)
    assert first.headers[CACHE_HEADER] == "miss"
    again = client.post("/api/models/xor/forward", json={"input": [1, 0]})
    assert again.headers[CACHE_HEADER] == "hit"


def test_mnist_forward_json_and_checkpoint(client, service):
    x = np.random.default_rng(3).random(784).round(4).tolist()
    body = client.post("/api/models/mnist/forward", json={"input": x}).get_json()
    assert [layer["size"] for layer in body["layers"]] == [128, 64, 10]
    assert sum(body["probabilities"]) == pytest.approx(1.0, abs=1e-5)
    early = client.post("/api/models/mnist/forward?checkpoint=c0", json={"input": x}).get_json()
    np.testing.assert_allclose(early["layers"][0]["z"], service.forward("mnist", x, "c0").layers[0].z, atol=1e-5)
    assert client.post("/api/models/mnist/forward?checkpoint=nope", json={"input": x}).status_code == 404


def test_mnist_forward_image_upload_predicts_a_drawn_one(client):
    image = Image.new("L", (120, 120), 255)
    image.paste(0, (55, 15, 67, 105))  # a black vertical bar on white: a "1"
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    response = client.post(
        "/api/models/mnist/forward",
        data={"image": (io.BytesIO(buffer.getvalue()), "one.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["prediction"] == 1


@pytest.mark.parametrize(
    "payload, fragment",
    [
        ({"input": [1, 0, 1]}, "exactly 2"),
        ({"input": [1]}, "exactly 2"),
        ({"input": ["a", 0]}, "string"),
        ({"input": [None, 0]}, "null"),
        ({"input": [2, 0]}, "range"),
        ({"input": [[1], 0]}, "nested"),
        ({"input": [True, 0]}, "boolean"),
        ({"values": [1, 0]}, "'input'"),
        ([1, 0], "'input'"),
        ({"input": "10"}, "list"),
    ],
)
def test_xor_bad_json_answers_400_with_a_message(client, payload, fragment):
    response = client.post("/api/models/xor/forward", json=payload)
    assert response.status_code == 400
    assert fragment in response.get_json()["error"]


@pytest.mark.parametrize("raw", ['{"input": [NaN, 0]}', '{"input": [Infinity, 0]}', '{"input": [1e400, 0]}'])
def test_non_finite_numbers_answer_400(client, raw):
    response = client.post("/api/models/xor/forward", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert "NaN" in response.get_json()["error"] or "infinite" in response.get_json()["error"]


def test_malformed_json_and_wrong_content_type_answer_400(client):
    bad = client.post("/api/models/xor/forward", data="{input: [1,", content_type="application/json")
    assert bad.status_code == 400 and "not valid JSON" in bad.get_json()["error"]
    text = client.post("/api/models/xor/forward", data="1,0", content_type="text/plain")
    assert text.status_code == 400 and "Content-Type" in text.get_json()["error"]


def test_non_image_upload_answers_400(client):
    response = client.post(
        "/api/models/mnist/forward",
        data={"image": (io.BytesIO(b"this is not an image at all"), "digit.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert response.get_json()["error"]
    missing = client.post("/api/models/mnist/forward", data={"other": "x"}, content_type="multipart/form-data")
    assert missing.status_code == 400 and "'image'" in missing.get_json()["error"]


def test_unknown_model_is_404_and_wrong_method_is_json(client):
    response = client.post("/api/models/resnet/forward", json={"input": [0, 0]})
    assert response.status_code == 404 and "resnet" in response.get_json()["error"]
    assert client.get("/api/models/xor/forward").status_code == 405
    assert client.get("/api/models/xor/forward").is_json
    assert client.get("/api/nothing/here").status_code == 404
    assert client.get("/api/nothing/here").is_json


def test_huge_body_answers_413_json(client, app_config):
    blob = b"0" * (app_config.max_upload_bytes * 2 + 10)
    response = client.post("/api/models/mnist/forward", data=blob, content_type="application/json")
    assert response.status_code == 413
    assert response.is_json
