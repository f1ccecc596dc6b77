"""Every hostile or odd file of the fuzz suite, through the page's upload callback and the JSON API:
a clear message or a digit, never an escaping exception or a 500, and a valid request right after works."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from dash import no_update

from tests.callbacks.test_mnist_callbacks import png_data_url
from tests.unit.test_upload_fuzz import CASES, ERROR, OK

DATA_URL_PREFIX = "base64,"


def _raw_bytes(contents: str) -> bytes | None:
    """The file bytes inside a dcc.Upload data URL, or None when the URL itself is broken."""
    if DATA_URL_PREFIX not in contents:
        return None
    try:
        return base64.b64decode(contents.split(DATA_URL_PREFIX, 1)[1], validate=False)
    except ValueError:
        return None


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_through_the_page_upload_callback(page, service, digits, name):
    module, _ = page
    build, expected = CASES[name]
    contents = build()
    data, _, message, is_open = module.compute_input_choice(
        service, digits, 5_000_000, module.UPLOAD, None, contents, False, 5
    )
    if not contents:  # dcc.Upload sends "" when nothing was chosen: nothing to do, nothing to say
        assert (data, message, is_open) == (no_update, no_update, no_update)
    elif data is no_update:
        assert is_open and len(message) > 15 and expected != OK, (name, message)
    else:
        assert expected != ERROR and data["source"] == "upload" and len(data["pixels"]) == 784
    good, _, _, still_open = module.compute_input_choice(
        service, digits, 5_000_000, module.UPLOAD, None, png_data_url(digits.images[1]), False, 5
    )
    assert not still_open and module.compute_trace(service, digits, good, None)[0].prediction == digits.labels[1]


@pytest.fixture(scope="module")
def client(page):
    _, app = page
    return app.server.test_client()


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_through_the_api(client, name):
    build, expected = CASES[name]
    raw = _raw_bytes(build())
    if raw is None:  # not a file at all (a broken data URL): the API takes files, so send the text itself
        raw = build().encode()
    response = client.post("/api/models/mnist/forward", data={"image": (io.BytesIO(raw), f"{name}.png")},
                           content_type="multipart/form-data")
    assert response.status_code in (200, 400, 413), (name, response.status_code)
    body = response.get_json()
    if response.status_code == 200:
        assert expected != ERROR or raw is not None
        assert sum(body["probabilities"]) == pytest.approx(1.0, abs=1e-5)
    else:
        assert len(body["error"]) > 15
    after = client.post("/api/models/xor/forward", json={"input": [1, 0]})
    assert after.status_code == 200 and after.get_json()["prediction"] == 1
    assert np.isfinite(after.get_json()["probabilities"]).all()
