"""/mnist in a real browser: gallery, upload, drawing, inspector, timeline, no console errors."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from singularity_dash.app import create_app

pytestmark = pytest.mark.browser
TIMEOUT = 30


def open_mnist(dash_duo, app_config, query: str = ""):
    """Start a fresh app and open /mnist (with an optional query); wait for the 3D view."""
    dash_duo.start_server(create_app(app_config))
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/mnist{query}")
    dash_duo.wait_for_element("#mnist-graph .js-plotly-plot", timeout=TIMEOUT)


def wait_for_text(dash_duo, selector: str, predicate, timeout: int = TIMEOUT) -> str:
    """Wait until the element's text satisfies the predicate; return the text."""
    dash_duo.wait_for_element(selector, timeout=timeout)
    texts = [None]

    def check(_driver):
        try:
            texts.append(dash_duo.find_element(selector).text)
        except StaleElementReferenceException:  # re-rendered between lookup and read
            return False
        return predicate(texts[-1])

    try:
        WebDriverWait(dash_duo.driver, timeout).until(check)
    except TimeoutException:
        raise AssertionError(f"{selector}: text never matched; last text {texts[-1]!r}") from None
    return texts[-1]


def click(dash_duo, element) -> None:
    """Click an element wherever it is on the long page (scrolled into view by the browser itself)."""
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element)


def upload_file(dash_duo, tmp_path, name: str, data: bytes) -> None:
    """Send a file to the page's upload input."""
    path = tmp_path / name
    path.write_bytes(data)
    dash_duo.find_element("#mnist-upload input[type=file]").send_keys(str(path))


def make_digit_png(digits, index: int, fmt: str = "PNG", invert: bool = False) -> bytes:
    """A test digit enlarged to 140x140, optionally dark-on-light, in an image format."""
    image = digits.images[index]
    if invert:
        image = 255 - image
    buffer = io.BytesIO()
    Image.fromarray(image).resize((140, 140), Image.Resampling.BILINEAR).convert("RGB").save(buffer, fmt)
    return buffer.getvalue()


def test_gallery_digit_from_url_and_click(dash_duo, app_config, digits):
    open_mnist(dash_duo, app_config, "?digit=12")
    label = int(digits.labels[12])
    assert wait_for_text(dash_duo, "#mnist-predicted-digit", lambda t: t.strip() != "") == str(label)
    assert wait_for_text(dash_duo, "#mnist-verdict", lambda t: "True label" in t) == f"True label {label}: right"
    # Click another thumbnail: the prediction follows and the URL records the digit.
    items = dash_duo.driver.find_elements(By.CSS_SELECTOR, ".mnist-gallery-item")
    assert len(items) == 24
    click(dash_duo, items[3])
    expected = f"True label {int(digits.labels[3])}"
    wait_for_text(dash_duo, "#mnist-verdict", lambda t: t.startswith(expected) and "#3" in dash_duo.find_element("#mnist-source").text)
    dash_duo.wait_for_text_to_equal("#mnist-source", "Test digit #3", timeout=TIMEOUT)
    assert "digit=3" in dash_duo.driver.current_url
    # The outline moved to the clicked thumbnail in the browser, without re-rendering the gallery.
    current = "return [...document.querySelectorAll('.mnist-gallery-item.mnist-current')].map(e => e.id);"
    WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda d: len(d.execute_script(current)) == 1
                                                  and '"index":3' in d.execute_script(current)[0])
    assert items[3].is_displayed()  # the same element: not replaced by a re-render
    # Each graph keeps its own height (dcc.Graph's inline 100% would stretch it to the whole row).
    heights = dash_duo.driver.execute_script(
        "return ['mnist-graph', 'mnist-probabilities', 'mnist-input-image']"
        ".map(id => document.getElementById(id).getBoundingClientRect().height);")
    assert heights == [620, 280, 300]
    assert dash_duo.get_logs() == []


def test_upload_png_jpeg_and_bad_file(dash_duo, app_config, digits, tmp_path):
    open_mnist(dash_duo, app_config)
    upload_file(dash_duo, tmp_path, "seven.png", make_digit_png(digits, 0))
    dash_duo.wait_for_text_to_equal("#mnist-source", "Your upload", timeout=TIMEOUT)
    assert dash_duo.find_element("#mnist-predicted-digit").text == str(int(digits.labels[0]))
    assert dash_duo.find_element("#mnist-upload-original").get_attribute("src").startswith("data:image/png")

    upload_file(dash_duo, tmp_path, "two.jpg", make_digit_png(digits, 1, "JPEG", invert=True))
    wait_for_text(dash_duo, "#mnist-predicted-digit", lambda t: t == str(int(digits.labels[1])))

    upload_file(dash_duo, tmp_path, "notes.png", b"these are my notes, not a picture\n" * 20)
    message = wait_for_text(dash_duo, "#mnist-input-error", lambda t: len(t) > 10)
    assert "image" in message.lower() or "png" in message.lower()
    # The last good input is still shown.
    assert dash_duo.find_element("#mnist-predicted-digit").text == str(int(digits.labels[1]))
    assert dash_duo.get_logs() == []


def test_draw_a_stroke_gives_a_prediction(dash_duo, app_config):
    open_mnist(dash_duo, app_config)
    pad = dash_duo.find_element("#mnist-pad")
    size = pad.size
    actions = ActionChains(dash_duo.driver)
    # A vertical bar in the middle of the pad: a "1".
    actions.move_to_element(pad).move_by_offset(0, -size["height"] // 3).click_and_hold()
    for _ in range(10):
        actions.move_by_offset(0, size["height"] // 15)
    actions.release().perform()
    dash_duo.wait_for_text_to_equal("#mnist-source", "Your drawing", timeout=TIMEOUT)
    assert dash_duo.find_element("#mnist-predicted-digit").text == "1"
    click(dash_duo, dash_duo.find_element("#mnist-pad-clear"))
    blank = dash_duo.driver.execute_script(
        "const c = document.getElementById('mnist-pad');"
        "return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.every(v => v === 0);"
    )
    assert blank
    assert dash_duo.get_logs() == []


def test_select_neuron_in_table_shows_weight_map_and_timeline(dash_duo, app_config):
    open_mnist(dash_duo, app_config, "?digit=0")
    dash_duo.wait_for_element("#mnist-neuron-table td", timeout=TIMEOUT)
    # The first row of the hidden-1 table is neuron 1-0.
    click(dash_duo, dash_duo.find_element("#mnist-neuron-table td[data-dash-column='label']"))
    dash_duo.wait_for_element("#mnist-weight-image .main-svg", timeout=TIMEOUT)
    dash_duo.wait_for_element("#mnist-contribution-image .main-svg", timeout=TIMEOUT)
    dash_duo.wait_for_text_to_equal("#mnist-inspector-title", "Neuron h1.1 (hidden 1, #0)", timeout=TIMEOUT)
    assert "neuron=1-0" in dash_duo.driver.current_url

    # Move the timeline to the random initial weights: caption, URL and inspector follow.
    z_final = dash_duo.find_element("#mnist-inspector-z").text
    thumb = dash_duo.find_element("#mnist-checkpoint [role=slider]")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();", thumb)
    thumb.send_keys(Keys.HOME)
    wait_for_text(dash_duo, "#mnist-checkpoint-label", lambda t: "random init" in t)
    wait_for_text(dash_duo, "#mnist-inspector-z", lambda t: t != z_final)
    assert "checkpoint=c0" in dash_duo.driver.current_url
    assert dash_duo.get_logs() == []


def test_neuron_click_in_3d_and_misclassified_gallery_follows_timeline(dash_duo, app_config):
    open_mnist(dash_duo, app_config, "?digit=0")
    dash_duo.wait_for_element("#mnist-neuron-table td", timeout=TIMEOUT)
    # A click on marker 5 of hidden layer 2 hands Dash that point's row of the figure's customdata
    # (layer, index, z, a); it must be a plain list, as the page sent it, for the click to name it.
    click_3d = "window.dash_clientside.set_props('mnist-graph', {clickData: arguments[0]});"
    row = dash_duo.driver.execute_script(
        "return document.querySelector('#mnist-graph .js-plotly-plot').data[2].customdata[5];")
    assert isinstance(row, list) and row[:2] == [2, 5]
    dash_duo.driver.execute_script(click_3d, {"points": [{"curveNumber": 2, "pointNumber": 5, "customdata": row}]})
    dash_duo.wait_for_text_to_equal("#mnist-inspector-title", "Neuron h2.6 (hidden 2, #5)", timeout=TIMEOUT)
    WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda d: "neuron=2-5" in d.current_url)
    # A click on an edge (no customdata) and one naming no neuron leave the selection alone.
    dash_duo.driver.execute_script(click_3d, {"points": [{"curveNumber": 9, "pointNumber": 3}]})
    dash_duo.driver.execute_script(click_3d, {"points": [{"curveNumber": 2, "customdata": [7, 900]}]})
    dash_duo.wait_for_text_to_equal("#mnist-inspector-title", "Neuron h2.6 (hidden 2, #5)", timeout=TIMEOUT)

    # Filter the gallery to misclassified digits: it depends on the checkpoint now, so it follows it.
    every_digit = wait_for_text(dash_duo, "#mnist-gallery-page-label", lambda t: t.startswith("page 1 of "))
    click(dash_duo, dash_duo.find_element("#mnist-misclassified-only"))
    final_pages = wait_for_text(dash_duo, "#mnist-gallery-page-label", lambda t: t != every_digit)
    thumb = dash_duo.find_element("#mnist-checkpoint [role=slider]")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();", thumb)
    thumb.send_keys(Keys.HOME)
    wait_for_text(dash_duo, "#mnist-checkpoint-label", lambda t: "random init" in t)
    init_pages = wait_for_text(dash_duo, "#mnist-gallery-page-label", lambda t: t != final_pages)
    count = lambda text: int(text.split(" of ")[1].split()[0])  # noqa: E731 - "page 1 of N ..."
    assert count(init_pages) > 10 * count(final_pages)  # the random network gets most digits wrong
    assert dash_duo.get_logs() == []


def test_forward_pass_animation_runs_and_ends(dash_duo, app_config):
    open_mnist(dash_duo, app_config, "?digit=0")
    button = dash_duo.find_element("#mnist-animate")
    click(dash_duo, button)
    script = ("const gd = document.querySelector('#mnist-graph .js-plotly-plot');"
              "return [0, 1, 2, 3].map(i => gd.data[i].opacity === undefined ? null : gd.data[i].opacity);")
    # The layers light up one by one (later ones dimmed), then every layer is shown and the button is back.
    WebDriverWait(dash_duo.driver, TIMEOUT).until(lambda d: d.execute_script(script)[3] not in (None, 1))
    WebDriverWait(dash_duo.driver, TIMEOUT).until(
        lambda d: d.execute_script(script) == [1, 1, 1, 1] and button.get_attribute("disabled") is None
    )
    assert dash_duo.get_logs() == []


def test_page_without_data_explains_and_still_predicts_uploads(dash_duo, app_config, digits, tmp_path):
    open_mnist(dash_duo, app_config.with_changes(data_dir=None), "?digit=5")
    assert "SINGULARITY_DATA_DIR" in dash_duo.find_element("#mnist-gallery-missing").text
    assert not dash_duo.find_element("#mnist-gallery-controls").is_displayed()
    upload_file(dash_duo, tmp_path, "digit.png", make_digit_png(digits, 0))
    dash_duo.wait_for_text_to_equal("#mnist-source", "Your upload", timeout=TIMEOUT)
    assert dash_duo.find_element("#mnist-predicted-digit").text == str(int(digits.labels[0]))
    assert dash_duo.get_logs() == []
