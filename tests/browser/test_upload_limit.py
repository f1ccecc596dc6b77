"""A file over the upload limit is refused in the browser with a message naming the size and the limit."""

import os

import pytest

from tests.browser.test_mnist_page import TIMEOUT, open_mnist, upload_file, wait_for_text

pytestmark = pytest.mark.browser


def test_oversized_upload_is_explained_in_the_page(dash_duo, app_config, tmp_path):
    config = app_config.with_changes(max_upload_bytes=200_000)
    open_mnist(dash_duo, config)
    upload_file(dash_duo, tmp_path, "huge-photo.png", os.urandom(300_000))
    text = wait_for_text(dash_duo, "#mnist-input-error", lambda t: "too large" in t, timeout=TIMEOUT)
    assert "huge-photo.png" in text and "0.3 MB" in text and "the limit is 0.2 MB" in text
    assert dash_duo.get_logs() == []
