"""Two people on the same server at once: each browser keeps its own input and selection.

Browser A (dash_duo) and browser B (a second Chromium made the way dash_br makes one) open the same app with different inputs and select
different neurons. After B acts, A acts again; every value each one then shows is checked against an
independent numpy forward pass of its own input, so state leaking through the server (a module
global holding "the current input" or "the selected neuron") would show up as a wrong number.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from dash.testing.browser import Browser

from singularity_dash.app import create_app
from singularity_dash.notes import format_number
from singularity_dash.preprocess import preprocess_image
from tests.redis_server import free_port

CHECKPOINT = "mnist-checkpoint"

pytestmark = pytest.mark.browser
TIMEOUT = 30


@pytest.fixture
def second_browser(request, tmp_path):
    """Another headless browser, built as the dash_br fixture builds one (dash_br and dash_duo cannot share a test:
    both create the same download folder)."""
    options = request.config
    with Browser(
        browser=options.getoption("webdriver"),
        remote=options.getoption("remote"),
        remote_url=options.getoption("remote_url"),
        headless=options.getoption("headless"),
        options=options.hook.pytest_setup_options(),
        download_path=str(tmp_path / "second-browser-downloads"),
        percy_assets_root=options.getoption("percy_assets"),
        percy_finalize=options.getoption("nopercyfinalize"),
        pause=options.getoption("pause"),
    ) as browser:
        yield browser


def expected_xor(service, x1: float, x2: float) -> tuple[np.ndarray, float]:
    """(hidden pre-activations z, P(y = 1)) of the committed XOR model, by numpy."""
    loaded = service.loaded("xor")
    z = loaded.weights[0].astype(float) @ np.array([x1, x2]) + loaded.biases[0]
    out = loaded.weights[1].astype(float) @ np.tanh(z) + loaded.biases[1]
    return z, float(1 / (1 + np.exp(-out[0])))


def open_page(browser, url: str, ready: str, text: str) -> None:
    """Load a page in one browser and wait until it shows its first result."""
    browser.wait_for_page(url=url, timeout=TIMEOUT)
    browser.wait_for_contains_text(ready, text, timeout=TIMEOUT)


def click(browser, selector: str) -> None:
    """A DOM click wherever the element is on the long page."""
    browser.driver.execute_script("arguments[0].click();", browser.find_element(selector))


def click_table_label(browser, label: str) -> None:
    """Select a neuron by clicking its row label in the per-neuron table."""
    browser.wait_for_element("#xor-table td[data-dash-column='label']", timeout=TIMEOUT)
    cell = next(c for c in browser.find_elements("#xor-table td[data-dash-column='label']") if c.text == label)
    browser.driver.execute_script("arguments[0].click();", cell)


def assert_xor_view(browser, service, x1, x2, neuron: int, answer: str) -> None:
    """The browser shows the prediction for (x1, x2) and the inspector of hidden neuron `neuron` for that input."""
    z, p = expected_xor(service, x1, x2)
    browser.wait_for_text_to_equal("#xor-prediction", f"The network says {answer}: P(y = 1) = {format_number(p)}.",
                                   timeout=TIMEOUT)
    browser.wait_for_text_to_equal("#xor-inspector-z", format_number(z[neuron]), timeout=TIMEOUT)
    browser.wait_for_text_to_equal("#xor-inspector-a", format_number(np.tanh(z[neuron])), timeout=TIMEOUT)
    WebDriverWait(browser.driver, TIMEOUT).until(lambda d: f"neuron=1-{neuron}" in d.current_url)


def test_two_browsers_on_xor_keep_their_own_input_and_neuron(dash_duo, second_browser, app_config, service):
    dash_duo.start_server(create_app(app_config), port=free_port())  # other suites may hold the default port
    base = dash_duo.server_url
    a, b = dash_duo, second_browser
    open_page(a, f"{base}/xor?x1=1&x2=0", "#xor-prediction", "The network says")
    open_page(b, f"{base}/xor?x1=1&x2=1", "#xor-prediction", "The network says")

    click_table_label(a, "h1")
    click_table_label(b, "h2")
    assert_xor_view(a, service, 1, 0, neuron=0, answer="1 (true)")
    assert_xor_view(b, service, 1, 1, neuron=1, answer="0 (false)")

    # B changes its input; A's next callback must still be about A's own input and neuron.
    click(b, "#xor-row-00")
    assert_xor_view(b, service, 0, 0, neuron=1, answer="0 (false)")
    click(a, "#xor-row-01")
    assert_xor_view(a, service, 0, 1, neuron=0, answer="1 (true)")
    assert_xor_view(b, service, 0, 0, neuron=1, answer="0 (false)")
    assert "x1=0" in a.driver.current_url and "x2=1" in a.driver.current_url
    assert "x2=0" in b.driver.current_url
    assert a.get_logs() == []
    assert b.get_logs() == []


def write_drawn_digit(path, points, width: int = 14) -> None:
    """A dark stroke on white, saved as PNG for the upload control."""
    image = Image.new("L", (140, 140), 255)
    ImageDraw.Draw(image).line(points, fill=0, width=width)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())


def early_prediction(service, path) -> int:
    """The random-init checkpoint's prediction for an uploaded file, by numpy on the preprocessed pixels."""
    loaded = service.loaded("mnist", service.checkpoints("mnist")[0]["id"])
    a = preprocess_image(path.read_bytes()).reshape(-1).astype(float)
    for i, (w, bias) in enumerate(zip(loaded.weights, loaded.biases)):
        z = w.astype(float) @ a + bias
        a = np.maximum(z, 0) if i < len(loaded.weights) - 1 else z
    return int(np.argmax(a))


def test_two_browsers_on_mnist_keep_their_own_uploads(dash_duo, second_browser, app_config, service, tmp_path):
    """Each browser uploads its own drawing: each sees its own source and prediction, not the other's."""
    one, seven = tmp_path / "one.png", tmp_path / "seven.png"
    write_drawn_digit(one, [(70, 15), (70, 125)])
    write_drawn_digit(seven, [(25, 20), (115, 20), (55, 125)])
    dash_duo.start_server(create_app(app_config), port=free_port())  # other suites may hold the default port
    base = dash_duo.server_url
    a, b = dash_duo, second_browser
    for browser in (a, b):
        browser.wait_for_page(url=f"{base}/mnist", timeout=TIMEOUT)
        browser.wait_for_element("#mnist-graph .js-plotly-plot", timeout=TIMEOUT)

    a.find_element("#mnist-upload input[type=file]").send_keys(str(one))
    a.wait_for_text_to_equal("#mnist-source", "Your upload", timeout=TIMEOUT)
    a.wait_for_text_to_equal("#mnist-predicted-digit", "1", timeout=TIMEOUT)
    b_before = b.find_element("#mnist-source").text
    assert b_before != "Your upload"  # A's upload did not reach B

    b.find_element("#mnist-upload input[type=file]").send_keys(str(seven))
    b.wait_for_text_to_equal("#mnist-source", "Your upload", timeout=TIMEOUT)
    b.wait_for_text_to_equal("#mnist-predicted-digit", "7", timeout=TIMEOUT)
    # A moves its checkpoint slider to the random-init weights: the server recomputes A's view from A's
    # own stored input. At that checkpoint A's "1" reads as 0 and B's "7" as 4 (checked by numpy below).
    handle = a.find_element(f"#{CHECKPOINT} [role=slider]")
    handle.send_keys(Keys.HOME)
    expected_a, expected_b = (early_prediction(service, path) for path in (one, seven))
    assert expected_a != expected_b
    a.wait_for_text_to_equal("#mnist-predicted-digit", str(expected_a), timeout=TIMEOUT)
    assert a.find_element("#mnist-source").text == "Your upload"
    assert b.find_element("#mnist-predicted-digit").text == "7"  # B's own view is untouched
    assert a.get_logs() == []
    assert b.get_logs() == []
