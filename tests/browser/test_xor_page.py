"""The /xor page in a real browser: truth-table predictions, inspector, animation, training, shared URLs."""

import importlib

import numpy as np
import pytest
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from singularity_dash.app import create_app
from singularity_dash.figures.surfaces import CURRENT_INPUT_TRACE
from singularity_dash.notes import format_number
from singularity_dash.xor_view import PENDING_COLOR, XorView, compute_step_count, parse_neuron

pytestmark = pytest.mark.browser

TIMEOUT = 30


def _open(dash_duo, app_config, query=""):
    """Start a fresh app and open /xor (with an optional query), waiting for the first prediction."""
    dash_duo.start_server(create_app(app_config))
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/xor{query}")
    dash_duo.wait_for_element("#xor-title", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#xor-prediction", "The network says", timeout=TIMEOUT)


def _click(dash_duo, selector):
    """Click an element wherever it is on the long page (a DOM click, as the user's would be)."""
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].click();", element)


def _plotted_colors(dash_duo, trace_index):
    """The marker colours of one trace as plotly currently draws them."""
    return dash_duo.driver.execute_script(
        "const gd = document.querySelector('#xor-graph .js-plotly-plot');"
        "return gd && gd.data ? gd.data[arguments[0]].marker.color : null;", trace_index)


def _surface_stars(dash_duo):
    """(x, y) of the "current input" star in every response-surface graph, as plotly currently draws it."""
    return dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#xor-surfaces .js-plotly-plot')).map(gd => gd.data ?"
        " [gd.data[arguments[0]].x[0], gd.data[arguments[0]].y[0]] : null);", CURRENT_INPUT_TRACE)


def _stars_at(dash_duo, count, x1, x2):
    """Whether there are `count` surfaces and each one's star sits at (x1, x2)."""
    stars = _surface_stars(dash_duo)
    return len(stars) == count and all(s is not None and np.allclose(s, (x1, x2)) for s in stars)


def _expected_output(service, x1, x2):
    """P(y=1) of the committed model by an independent numpy forward pass."""
    loaded = service.loaded("xor")
    h = np.tanh(loaded.weights[0] @ np.array([x1, x2], dtype=float) + loaded.biases[0])
    z = loaded.weights[1] @ h + loaded.biases[1]
    return float(1 / (1 + np.exp(-z[0])))


def test_every_truth_table_row_gives_the_xor_answer(dash_duo, app_config, service):
    _open(dash_duo, app_config)
    for row_id, (x1, x2), answer in (("#xor-row-00", (0, 0), "0 (false)"), ("#xor-row-01", (0, 1), "1 (true)"),
                                     ("#xor-row-10", (1, 0), "1 (true)"), ("#xor-row-11", (1, 1), "0 (false)")):
        dash_duo.find_element(row_id).click()
        p = format_number(_expected_output(service, x1, x2))
        dash_duo.wait_for_text_to_equal("#xor-prediction", f"The network says {answer}: P(y = 1) = {p}.",
                                        timeout=TIMEOUT)
        target = 1 if answer.startswith("1") else 0
        dash_duo.wait_for_contains_text("#xor-target", f"XOR({x1}, {x2}) = {target}", timeout=TIMEOUT)
    assert dash_duo.get_logs() == []


def test_table_row_click_opens_the_inspector_with_the_right_z(dash_duo, app_config, service):
    _open(dash_duo, app_config, "?x1=0&x2=1")
    dash_duo.wait_for_element("#xor-table td[data-dash-column='label']", timeout=TIMEOUT)
    cells = dash_duo.find_elements("#xor-table td[data-dash-column='label']")
    h1 = next(c for c in cells if c.text == "h1")
    h1.click()
    loaded = service.loaded("xor")
    z = float(loaded.weights[0][0] @ np.array([0.0, 1.0]) + loaded.biases[0][0])
    dash_duo.wait_for_text_to_equal("#xor-inspector-z", format_number(z), timeout=TIMEOUT)
    dash_duo.wait_for_text_to_equal("#xor-inspector-a", format_number(np.tanh(z)), timeout=TIMEOUT)
    WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda d: "neuron=1-0" in d.current_url)
    assert dash_duo.get_logs() == []


def test_a_click_on_a_3d_neuron_opens_the_inspector(dash_duo, app_config, service):
    _open(dash_duo, app_config, "?x1=0&x2=1")
    # The row of customdata Plotly hands a click on hidden neuron h2 (layer 1, index 1): a plain list.
    row = dash_duo.driver.execute_script(
        "const gd = document.querySelector('#xor-graph .js-plotly-plot');"
        "const t = gd.data.findIndex(tr => Array.isArray(tr.customdata) && tr.customdata[0][0] === 1);"
        "window.dash_clientside.set_props('xor-graph', {clickData: {points: [{curveNumber: t, pointNumber: 1,"
        " customdata: gd.data[t].customdata[1]}]}});"
        "return gd.data[t].customdata[1];")
    assert row[:2] == [1, 1]
    loaded = service.loaded("xor")
    z = float(loaded.weights[0][1] @ np.array([0.0, 1.0]) + loaded.biases[0][1])
    dash_duo.wait_for_text_to_equal("#xor-inspector-z", format_number(z), timeout=TIMEOUT)
    WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda d: "neuron=1-1" in d.current_url)
    assert dash_duo.get_logs() == []


def test_animation_plays_to_the_end(dash_duo, app_config):
    _open(dash_duo, app_config, "?x1=1&x2=0")
    count = compute_step_count((2, 2, 1))
    dash_duo.find_element("#xor-reset").click()
    dash_duo.wait_for_text_to_equal("#xor-step-label", f"step 1 of {count}", timeout=TIMEOUT)
    dash_duo.find_element("#xor-forward").click()
    dash_duo.find_element("#xor-forward").click()
    dash_duo.wait_for_text_to_equal("#xor-step-label", f"step 3 of {count}", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#xor-caption", "h1: z = w1·x1 + w2·x2 + b", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#xor-caption", "h1: a = tanh(z) = tanh(", timeout=TIMEOUT)
    # in 3D, h1 is lit and h2 and the output still wait (trace 1 = hidden layer, 2 = output)
    WebDriverWait(dash_duo.driver, TIMEOUT).until(
        lambda _d: (_plotted_colors(dash_duo, 1) or [None, None])[1] == PENDING_COLOR)
    assert _plotted_colors(dash_duo, 1)[0] != PENDING_COLOR
    assert _plotted_colors(dash_duo, 2) == [PENDING_COLOR]
    # fastest speed, then play through to the last step
    dash_duo.driver.find_element("xpath", "//*[@id='xor-speed']//label[normalize-space()='4×']").click()
    dash_duo.find_element("#xor-play").click()
    dash_duo.wait_for_text_to_equal("#xor-step-label", f"step {count} of {count}", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#xor-caption", "Done: the prediction", timeout=TIMEOUT)
    # the finished pass is drawn with numeric activations on the shared colour scale again
    WebDriverWait(dash_duo.driver, TIMEOUT).until(
        lambda _d: all(isinstance(v, (int, float)) for v in _plotted_colors(dash_duo, 1) or ["x"]))
    WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda d: f"step={count - 1}" in d.current_url)
    assert dash_duo.get_logs() == []


def test_training_in_the_browser_lowers_the_loss(dash_duo, app_config):
    _open(dash_duo, app_config)
    _click(dash_duo, "#xor-train")
    dash_duo.wait_for_contains_text("#xor-train-message", "4 of 4 rows right", timeout=60)
    dash_duo.wait_for_contains_text("#xor-loss-summary", "at epoch 2000 of 2000", timeout=TIMEOUT)
    start = float(dash_duo.find_element("#xor-loss-start").text)
    end = float(dash_duo.find_element("#xor-loss-end").text)
    assert end < start / 10
    dash_duo.wait_for_contains_text("#xor-source", "Your 2-2-1 tanh network trained on XOR", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#xor-source", "epoch 2000 of 2000", timeout=TIMEOUT)
    # scrub the timeline back to the start: the view follows the snapshot
    thumb = dash_duo.find_element("#xor-snapshot [role='slider']")
    dash_duo.driver.execute_script("arguments[0].focus();", thumb)
    thumb.send_keys(Keys.HOME)
    dash_duo.wait_for_contains_text("#xor-source", "epoch 0 of 2000", timeout=TIMEOUT)
    thumb.send_keys(Keys.END)
    dash_duo.wait_for_contains_text("#xor-source", "epoch 2000 of 2000", timeout=TIMEOUT)
    # the view now shows the browser's network: each row's prediction is still the XOR answer
    _click(dash_duo, "#xor-row-11")
    dash_duo.wait_for_contains_text("#xor-prediction", "The network says 0 (false)", timeout=TIMEOUT)
    # the rebuilt surfaces (h1, h2, y) follow the input too
    WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda _d: _stars_at(dash_duo, 3, 1.0, 1.0))
    assert dash_duo.get_logs() == []


def test_a_slider_move_moves_every_star_and_the_address_bar(dash_duo, app_config, service):
    _open(dash_duo, app_config, "?x1=0&x2=1&neuron=1-0")
    WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda _d: _stars_at(dash_duo, 3, 0.0, 1.0))
    # a truth-table row moves both sliders
    _click(dash_duo, "#xor-row-10")
    WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda _d: _stars_at(dash_duo, 3, 1.0, 0.0))
    WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda d: d.current_url.endswith("/xor?x1=1&x2=0&neuron=1-0"))
    # the keyboard moves x2 by 0.01 a press: 0.03
    thumb = dash_duo.find_element("#xor-x2 [role='slider']")
    dash_duo.driver.execute_script("arguments[0].focus();", thumb)
    for _ in range(3):
        thumb.send_keys(Keys.ARROW_RIGHT)
    WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda _d: _stars_at(dash_duo, 3, 1.0, 0.03))
    WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda d: d.current_url.endswith("/xor?x1=1&x2=0.03&neuron=1-0"))
    p = format_number(_expected_output(service, 1.0, 0.03))
    dash_duo.wait_for_contains_text("#xor-prediction", f"P(y = 1) = {p}.", timeout=TIMEOUT)
    # the browser writes exactly the query the server-side view writes
    page = importlib.import_module("pages.xor")
    for x1, x2, selection, step in ((0, 1, "2-0", 3), (0.97, 0.5, None, None), (0.1 + 0.2, 1 / 3, "1-1", 0),
                                    (None, 0.01, "", 7), (0.123456, 0.99999, "10-3", None), (1, 0.0001, None, 12)):
        browser = dash_duo.driver.execute_script(f"return ({page.SYNC_URL_JS}).apply(null, arguments);",
                                                 x1, x2, selection, step)
        assert browser == XorView(float(x1 or 0.0), float(x2 or 0.0), parse_neuron(selection), step).to_query()
    assert dash_duo.get_logs() == []


def test_shared_url_opens_the_same_view(dash_duo, app_config, service):
    _open(dash_duo, app_config, "?x1=0&x2=1&neuron=2-0&step=3")
    p = _expected_output(service, 0.0, 1.0)
    dash_duo.wait_for_contains_text("#xor-prediction", f"P(y = 1) = {format_number(p)}", timeout=TIMEOUT)
    dash_duo.wait_for_contains_text("#xor-inspector-title", "Neuron y (output", timeout=TIMEOUT)
    count = compute_step_count((2, 2, 1))
    dash_duo.wait_for_text_to_equal("#xor-step-label", f"step 4 of {count}", timeout=TIMEOUT)
    assert dash_duo.find_element("#xor-x1 [role='slider']").get_attribute("aria-valuenow") == "0"
    assert dash_duo.find_element("#xor-x2 [role='slider']").get_attribute("aria-valuenow") == "1"
    assert dash_duo.get_logs() == []
