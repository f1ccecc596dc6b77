"""Browser redraw: in headless Chromium, ms from clicking a gallery digit to the 3D graph's plotly_afterplot."""

from __future__ import annotations

import shutil
import time

from benchmarks.load import summarize_latencies

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--window-size=1400,1000",
)
GRAPH_SELECTOR = "#mnist-graph .js-plotly-plot"
ITEM_SELECTOR = "button.mnist-gallery-item"

# Runs in the page: click thumbnail `i`, resolve with ms until the plotly_afterplot that shows new
# neuron colours (an afterplot for anything else, e.g. a resize, is not the redraw we time).
CLICK_AND_WAIT_JS = """
const [selector, itemSelector, index, timeoutMs, done] = arguments;
const gd = document.querySelector(selector);
const items = document.querySelectorAll(itemSelector);
if (!gd || !gd.on || index >= items.length) { done({error: "graph or thumbnail not found"}); return; }
const fingerprint = () => JSON.stringify(gd.data.slice(0, 4).map(t => (t.marker || {}).color));
const before = fingerprint();
let finished = false;
const finish = (result) => {
    if (finished) { return; }
    finished = true;
    gd.removeListener("plotly_afterplot", handler);
    done(result);
};
const started = performance.now();
const handler = () => { if (fingerprint() !== before) { finish({ms: performance.now() - started}); } };
gd.on("plotly_afterplot", handler);
setTimeout(() => finish({error: "no redraw with new colours within timeout"}), timeoutMs);
items[index].click();
"""


def find_binaries() -> tuple[str, str]:
    """(chromium, chromedriver) paths; RuntimeError naming what is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        raise RuntimeError("headless browser benchmark needs chromium and chromedriver (Debian packages)")
    return chromium, driver


def start_browser():
    """A headless Chromium driven by chromedriver, with software WebGL."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = find_binaries()
    options = Options()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=driver_path), options=options)


def wait_for(driver, script: str, timeout: float) -> None:
    """Poll a JS expression until it is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if driver.execute_script(f"return Boolean({script});"):
            return
        time.sleep(0.1)
    raise TimeoutError(f"page never satisfied: {script}")


def measure_redraw(base_url: str, runs: int = 20, settle_s: float = 0.3, timeout_s: float = 30.0) -> dict:
    """Median (and p95) ms from a gallery click to the 3D graph's plotly_afterplot, over `runs` clicks."""
    driver = start_browser()
    try:
        driver.set_script_timeout(timeout_s)
        started = time.perf_counter()
        driver.get(base_url.rstrip("/") + "/mnist")
        wait_for(driver, f"document.querySelector('{GRAPH_SELECTOR}') && "
                         f"document.querySelectorAll('{ITEM_SELECTOR}').length > 1", timeout_s)
        page_ready_s = time.perf_counter() - started
        time.sleep(1.0)  # let the first render and the initial callbacks settle
        timings, errors = [], []
        count = driver.execute_script(f"return document.querySelectorAll('{ITEM_SELECTOR}').length;")
        for run in range(runs + 1):  # the first click warms up and is not counted
            index = (run * 5 + 1) % count  # a different thumbnail each time
            result = driver.execute_async_script(CLICK_AND_WAIT_JS, GRAPH_SELECTOR, ITEM_SELECTOR, index,
                                                 int(timeout_s * 1000))
            if run and "ms" in result:
                timings.append(float(result["ms"]))
            elif run:
                errors.append(result.get("error", "unknown"))
            time.sleep(settle_s)  # the rest of the page (gallery, inspector) finishes before the next click
        logs = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
        return {
            "runs": runs,
            **summarize_latencies(timings),
            "errors": errors,
            "page_ready_s": page_ready_s,
            "severe_console_messages": [entry.get("message", "")[:200] for entry in logs][:5],
            "webgl": driver.execute_script(
                "const c = document.createElement('canvas'); const g = c.getContext('webgl');"
                "if (!g) { return 'none'; } const e = g.getExtension('WEBGL_debug_renderer_info');"
                "return e ? g.getParameter(e.UNMASKED_RENDERER_WEBGL) : g.getParameter(g.RENDERER);"),
        }
    finally:
        driver.quit()

