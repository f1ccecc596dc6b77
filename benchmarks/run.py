"""One command for the whole benchmark: `python -m benchmarks.run [--quick]`.

Starts the Procfile's `web:` line (gunicorn, 2 workers) on a loopback port and measures, in one run:
interaction latency (cold and warm cache), bytes on the wire, throughput at 1/8/32 clients, worker
memory, cold start, browser redraw, and in-process baselines (bare forward; full figure rebuild).
Writes results/latest.json and results/latest.md (a table with every target beside its measurement).
Needs SINGULARITY_DATA_DIR (the MNIST folder) for the gallery.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks import memory
from benchmarks.load import HttpTransport, Step, compute_gzip_size, run_load, summarize_latencies
from benchmarks.payloads import DashSession, InteractionRecord, TestClientTransport

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = PROJECT_ROOT / "benchmarks" / "results"
BUNDLE_PREFIX = "/_dash-component-suites/"  # the Dash/React/Plotly/component JS bundles, not counted

# Element ids of the pages under test (the browser's view of them).
MNIST_GALLERY_ITEM = "mnist-gallery-item"
MNIST_GALLERY_NEXT = "mnist-gallery-next"
MNIST_INPUT = "mnist-input"
MNIST_DRAWING = "mnist-drawing"
MNIST_GRAPH = "mnist-graph"
MNIST_SELECTION = "mnist-selection"
MNIST_CHECKPOINT = "mnist-checkpoint"
XOR_X1 = "xor-x1"
XOR_X2 = "xor-x2"
MNIST_LAYER_SIZES = (784, 128, 64, 10)
DRAW_SIDE = 56  # the drawing pad sends 56x56 pixels
INTERACTIONS = ("gallery digit", "drawing", "neuron selection", "timeline step", "xor input")


@dataclass(frozen=True)
class Settings:
    """How much to measure."""

    latency_n: int
    load_total: dict
    load_seconds: float
    warmup_interactions: int
    cold_starts: int
    browser_runs: int
    baseline_n: int
    profile_n: int


FULL = Settings(latency_n=200, load_total={1: 300, 8: 600, 32: 1200}, load_seconds=60.0, warmup_interactions=60,
                cold_starts=3, browser_runs=20, baseline_n=200, profile_n=30)
QUICK = Settings(latency_n=4, load_total={1: 6, 8: 16, 32: 32}, load_seconds=10.0, warmup_interactions=8,
                 cold_starts=1, browser_runs=3, baseline_n=5, profile_n=2)

# (measurement key, label, limit, unit, higher is better)
TARGETS = {
    "gallery_median_ms": ("New gallery digit, server round trip, median (warm)", 20.0, "ms", False),
    "gallery_p95_ms": ("New gallery digit, server round trip, p95 (warm)", 50.0, "ms", False),
    "gallery_cold_median_ms": ("New gallery digit, median (cold cache)", 20.0, "ms", False),
    "gallery_cold_p95_ms": ("New gallery digit, p95 (cold cache)", 50.0, "ms", False),
    "gallery_gzip_kb": ("New gallery digit, response gzip (all callbacks)", 40.0, "KB", False),
    "first_load_gzip_kb": ("First load of /mnist, gzip, without JS bundles", 400.0, "KB", False),
    "selection_median_ms": ("Neuron selection, median (warm)", 15.0, "ms", False),
    "selection_cold_median_ms": ("Neuron selection, median (cold cache)", 15.0, "ms", False),
    "timeline_median_ms": ("Timeline step, median (warm)", 15.0, "ms", False),
    "timeline_cold_median_ms": ("Timeline step, median (cold cache)", 15.0, "ms", False),
    "throughput_32": ("Throughput at 32 clients", 150.0, "interactions/s", True),
    "throughput_32_p95_ms": ("p95 at 32 clients", 250.0, "ms", False),
    "throughput_32_errors": ("Errors at 32 clients", 0.0, "", False),
    "worker_rss_max_mb": ("Worker RSS, largest (after load)", 350.0, "MB", False),
    "cold_start_s": ("Cold start to first 200 from /healthz (median)", 8.0, "s", False),
    "browser_median_ms": ("Browser redraw after a gallery click, median", 500.0, "ms", False),
}


# --- pure helpers: evaluation and the table ------------------------------------------------------


def evaluate_target(value, limit: float, higher_is_better: bool) -> str:
    """PASS or MISS against a limit (inclusive); "n/a" when the value is missing."""
    if value is None:
        return "n/a"
    return "PASS" if (value >= limit if higher_is_better else value <= limit) else "MISS"


def format_value(value, unit: str = "") -> str:
    """A number for the table: 3 significant digits, thousands separated, the unit after."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    else:
        text = f"{value:,}"
    return f"{text} {unit}".strip()


def build_target_rows(measured: dict) -> list[dict]:
    """One row per target: label, measured value, target, status."""
    rows = []
    for key, (label, limit, unit, higher) in TARGETS.items():
        value = measured.get(key)
        bound = ">=" if higher else "<="
        rows.append({
            "key": key,
            "label": label,
            "value": format_value(value, unit),
            "target": f"{bound} {format_value(limit, unit)}",
            "status": evaluate_target(value, limit, higher),
        })
    return rows


def build_markdown_table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """A GitHub Markdown table of `rows` (dicts) with (key, header) columns; pipes in cells escaped."""
    def cell(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header for _, header in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(row.get(key, "")) for key, _ in columns) + " |" for row in rows]
    return "\n".join(lines)


# --- inputs for each interaction ------------------------------------------------------------------


def build_drawing(rng: np.random.Generator) -> list[list[int]]:
    """A random pen drawing on the 56x56 pad: 2-4 thick strokes, white on black, 0-255."""
    pad = np.zeros((DRAW_SIDE, DRAW_SIDE), dtype=float)
    rows, cols = np.mgrid[0:DRAW_SIDE, 0:DRAW_SIDE]
    for _ in range(rng.integers(2, 5)):
        (r0, c0), (r1, c1) = rng.uniform(8, DRAW_SIDE - 8, size=(2, 2))
        t = np.linspace(0, 1, 40)
        for r, c in zip(r0 + (r1 - r0) * t, c0 + (c1 - c0) * t):
            pad = np.maximum(pad, np.clip(3.0 - np.hypot(rows - r, cols - c), 0, 1))
    return (pad * 255).round().astype(int).tolist()


class Interactions:
    """Runs each benchmarked user action in a DashSession, with fresh (cold) inputs each time.

    A thumbnail click and a neuron click are answered by clientside callbacks that write the input
    and selection stores; the session cannot run JavaScript, so it writes those stores itself and the
    server callbacks that follow fire exactly as in the browser.
    """

    def __init__(self, mnist: DashSession, xor: DashSession, n_digits: int, seed: int = 6):
        self.mnist = mnist
        self.xor = xor
        self.rng = np.random.default_rng(seed)
        self.n_digits = n_digits
        self.used_digits = {0}
        self.gallery_queue: list[dict] = []
        self.drawings = 0
        self.xor_pairs = [(a / 100, b / 100) for a in range(101) for b in range(101)]
        random.Random(seed).shuffle(self.xor_pairs)

    def _fresh_digit(self) -> int:
        while True:
            digit = int(self.rng.integers(self.n_digits))
            if digit not in self.used_digits:
                self.used_digits.add(digit)
                return digit

    def gallery_digit(self) -> InteractionRecord:
        """Click a thumbnail not clicked before (turning the gallery page when all were)."""
        while not self.gallery_queue:
            clicks = self.mnist.value(MNIST_GALLERY_NEXT, "n_clicks") or 0
            self.mnist.set_props(MNIST_GALLERY_NEXT, {"n_clicks": clicks + 1}, name="next page")
            items = self.mnist.ids_matching({"type": MNIST_GALLERY_ITEM, "index": ["ALL"]})
            self.gallery_queue = [i for i in items if i["index"] not in self.used_digits]
        item = self.gallery_queue.pop(0)
        self.used_digits.add(item["index"])
        choice = {"source": "gallery", "index": item["index"]}  # what chooseGalleryDigit writes
        return self.mnist.set_props(MNIST_INPUT, {"data": choice}, name="gallery digit")

    def drawing(self) -> InteractionRecord:
        """A new drawing arrives from the pad."""
        self.drawings += 1
        data = {"pixels": build_drawing(self.rng), "sequence": self.drawings}
        return self.mnist.set_props(MNIST_DRAWING, {"data": data}, name="drawing")

    def _forget_input(self) -> None:
        # The tab shows a digit this server process has not traced yet (another worker, a restart).
        self.mnist.set_local(MNIST_INPUT, "data", {"source": "gallery", "index": self._fresh_digit()})

    def neuron_selection(self) -> InteractionRecord:
        """Click a random neuron of a random layer in the 3D view."""
        self._forget_input()
        layer = int(self.rng.integers(len(MNIST_LAYER_SIZES)))
        index = int(self.rng.integers(MNIST_LAYER_SIZES[layer]))
        # What selectNeuron writes for a click on that marker (its customdata starts with layer, index).
        return self.mnist.set_props(MNIST_SELECTION, {"data": [layer, index]}, name="neuron selection")

    def timeline_step(self) -> InteractionRecord:
        """Move the learning timeline to another checkpoint."""
        self._forget_input()
        current = self.mnist.value(MNIST_CHECKPOINT, "value")
        top = int(self.mnist.value(MNIST_CHECKPOINT, "max") or 4)
        position = (int(current or 0) + 1) % (top + 1)
        return self.mnist.set_props(MNIST_CHECKPOINT, {"value": position}, name="timeline step")

    def xor_input(self) -> InteractionRecord:
        """Move the x1 slider on /xor (x2 set beforehand, so each pair is new)."""
        x1, x2 = self.xor_pairs.pop()
        self.xor.set_local(XOR_X2, "value", x2)
        return self.xor.set_props(XOR_X1, {"value": x1}, name="xor input")

    def run(self, name: str) -> InteractionRecord:
        """One interaction by name."""
        actions = {"gallery digit": self.gallery_digit, "drawing": self.drawing,
                   "neuron selection": self.neuron_selection, "timeline step": self.timeline_step,
                   "xor input": self.xor_input}
        return actions[name]()


# --- measuring --------------------------------------------------------------------------------------


def replay(transport, steps: list[Step]) -> tuple[float, int]:
    """Send recorded steps in order; (summed ms, error count)."""
    total, errors = 0.0, 0
    for step in steps:
        answer = transport.post(step.path, step.body)
        total += answer.elapsed_ms
        errors += answer.status not in (200, 204)
    return total, errors


def summarize_records(records: list[InteractionRecord]) -> dict:
    """Latency, bytes and per-callback breakdown of recorded interactions."""
    per_callback: dict[str, list] = {}
    for record in records:
        for exchange in record.exchanges:
            entry = per_callback.setdefault(exchange.output, [[], [], []])
            entry[0].append(exchange.response.elapsed_ms)
            entry[1].append(exchange.response.raw_bytes)
            entry[2].append(exchange.response.gzip_bytes)
    return {
        "latency": summarize_latencies([r.total_ms for r in records]),
        "critical_path": summarize_latencies([r.critical_path_ms for r in records]),
        "requests_per_interaction": statistics.median(len(r.exchanges) for r in records),
        "raw_bytes_median": statistics.median(r.raw_bytes for r in records),
        "gzip_bytes_median": statistics.median(r.gzip_bytes for r in records),
        "wire_bytes_median": statistics.median(r.wire_bytes for r in records),
        "encodings": sorted({encoding or "identity" for r in records for encoding in r.encodings}),
        "errors": sum(len(r.errors) for r in records),
        "error_samples": [e for r in records for e in r.errors][:5],
        "skipped_clientside": sorted({s for r in records for s in r.skipped_clientside}),
        "callbacks": {
            output: {"count": len(v[0]), "median_ms": statistics.median(v[0]),
                     "raw_bytes_median": statistics.median(v[1]), "gzip_bytes_median": statistics.median(v[2])}
            for output, v in per_callback.items()
        },
    }


def measure_interactions(base_url: str, n: int, n_digits: int, log) -> tuple[dict, dict]:
    """Cold and warm latency of each interaction over one keep-alive connection; (results, recorded steps)."""
    transport = HttpTransport(base_url)
    mnist = DashSession(transport)
    mnist.load_page("/mnist")
    xor = DashSession(transport)
    xor.load_page("/xor")
    actions = Interactions(mnist, xor, n_digits)
    results, recorded = {}, {}
    for name in INTERACTIONS:
        cold = [actions.run(name) for _ in range(n)]
        steps = [record.steps() for record in cold]
        for interaction in steps:  # one untimed pass so the cache holds every input
            replay(transport, interaction)
        warm = [replay(transport, interaction) for interaction in steps]
        results[name] = {
            "cold": summarize_records(cold),
            "warm": {"latency": summarize_latencies([ms for ms, _ in warm]), "errors": sum(e for _, e in warm)},
        }
        recorded[name] = steps
        log(f"  {name}: cold median {results[name]['cold']['latency']['median_ms']:.1f} ms, "
            f"warm median {results[name]['warm']['latency']['median_ms']:.1f} ms, "
            f"{results[name]['cold']['requests_per_interaction']} requests")
    transport.close()
    return results, recorded


def measure_first_load(base_url: str) -> dict:
    """Bytes of the first load of /mnist: HTML, its CSS/JS (without the JS bundles), layout, deps, callbacks."""
    transport = HttpTransport(base_url)
    counted, excluded = [], []

    def add(kind: str, path: str, answer) -> None:
        (excluded if kind == "bundle" else counted).append(
            {"kind": kind, "path": path, "status": answer.status, "raw": answer.raw_bytes, "gzip": answer.gzip_bytes})

    html = transport.get("/mnist")
    add("html", "/mnist", html)
    refs = re.findall(r'(?:href|src)="([^"]+)"', html.body.decode(errors="replace"))
    for ref in dict.fromkeys(refs):
        if not ref.startswith("/") or ref.startswith("//"):
            continue
        answer = transport.get(ref)
        add("bundle" if ref.startswith(BUNDLE_PREFIX) and ".js" in ref else "asset", ref, answer)
    session = DashSession(transport)
    for path in ("/_dash-layout", "/_dash-dependencies"):
        add("dash", path, transport.get(path))
    record = session.load_page("/mnist")
    for exchange in record.exchanges:
        add("callback", exchange.output, exchange.response)
    transport.close()
    return {
        "raw_bytes": sum(c["raw"] for c in counted),
        "gzip_bytes": sum(c["gzip"] for c in counted),
        "counted": counted,
        "excluded_bundles": excluded,
        "excluded_gzip_bytes": sum(c["gzip"] for c in excluded),
        "skipped_clientside": record.skipped_clientside,
    }


def measure_load(base_url: str, recorded: dict, settings: Settings, log, server_pid: int | None = None) -> dict:
    """Throughput at 1, 8 and 32 clients, replaying a mix of the recorded interactions (and each worker's CPU)."""
    mix = []
    for name in INTERACTIONS:
        mix.extend(recorded[name])
    random.Random(32).shuffle(mix)
    results = {}
    for clients in (1, 8, 32):
        before = memory.measure_worker_cpu(server_pid) if server_pid else {}
        result = run_load(base_url, mix, clients, settings.load_total[clients], settings.load_seconds)
        after = memory.measure_worker_cpu(server_pid) if server_pid else {}
        results[str(clients)] = result.summary()
        summary = results[str(clients)]
        # CPU each worker spent in this phase: shows whether the two workers share the load.
        if after:
            live = after["workers"]
            summary["worker_cpu_s"] = {str(pid): round(live[pid] - before["workers"].get(pid, 0.0), 2) for pid in live}
            # Workers recycled during the phase: their CPU shows up in the master's reaped-children time,
            # and what they had used before the phase must come off again.
            gone = sum(s for pid, s in before["workers"].items() if pid not in live)
            summary["recycled_workers_cpu_s"] = round(after["exited"] - before["exited"] - gone, 2)
        spent = sum(summary.get("worker_cpu_s", {}).values()) + summary.get("recycled_workers_cpu_s", 0.0)
        summary["server_cpu_ms_per_interaction"] = spent * 1000 / summary["interactions"] if summary["interactions"] else None
        log(f"  {clients} clients: {summary['interactions_per_s']:.1f} interactions/s, "
            f"p95 {summary.get('p95_ms', float('nan')):.0f} ms, {summary['errors']} errors")
    return results


def measure_baselines(n: int, data_dir: str) -> dict:
    """In-process: bare forward; full figure rebuild + plotly JSON + gzip; the Patch path for comparison."""
    import plotly.io as pio

    from singularity_dash.figures.network3d import build_network_figure, build_network_patch, compute_layout
    from singularity_dash.mnist_data import load_digits
    from singularity_dash.service import ModelService

    digits = load_digits(data_dir, "test")
    service = ModelService(PROJECT_ROOT / "models", cache=None)
    layout = compute_layout(MNIST_LAYER_SIZES)
    rng = np.random.default_rng(7)
    picks = rng.choice(len(digits), size=n, replace=False)
    forward_ms, full_ms, patch_ms, full_bytes, full_gzip, patch_bytes = [], [], [], [], [], []
    for i in picks:
        x = digits.pixels(int(i))
        t0 = time.perf_counter()
        trace = service.forward("mnist", x)
        t1 = time.perf_counter()
        body = pio.json.to_json_plotly(build_network_figure(layout, trace))
        gz = compute_gzip_size(body.encode())
        t2 = time.perf_counter()
        patch = pio.json.to_json_plotly(build_network_patch(layout, trace).to_plotly_json())
        t3 = time.perf_counter()
        forward_ms.append((t1 - t0) * 1000)
        full_ms.append((t2 - t0) * 1000)
        patch_ms.append((t3 - t2 + t1 - t0) * 1000)
        full_bytes.append(len(body))
        full_gzip.append(gz)
        patch_bytes.append(len(patch))
    engines = measure_response_encoding(build_network_patch(layout, trace), max(5, n // 4))
    return {
        "response_json": engines,
        "forward": summarize_latencies(forward_ms),
        "full_figure": {**summarize_latencies(full_ms), "raw_bytes_median": statistics.median(full_bytes),
                        "gzip_bytes_median": statistics.median(full_gzip),
                        "json_engine": pio.json.config.default_engine},
        "patch_in_process": {**summarize_latencies(patch_ms), "raw_bytes_median": statistics.median(patch_bytes)},
    }


class ProfilingTransport:
    """A transport that profiles only while a request is being served (not the simulated browser)."""

    def __init__(self, inner, profiler: cProfile.Profile):
        self.inner = inner
        self.profiler = profiler

    def get(self, path: str):
        """GET, profiled."""
        self.profiler.enable()
        try:
            return self.inner.get(path)
        finally:
            self.profiler.disable()

    def post(self, path: str, body: bytes):
        """POST, profiled."""
        self.profiler.enable()
        try:
            return self.inner.post(path, body)
        finally:
            self.profiler.disable()


def measure_response_encoding(patch, n: int) -> dict:
    """ms Dash spends turning a figure-Patch answer into JSON, with plotly's orjson and json engines."""
    import plotly.io as pio
    from dash._utils import to_json

    response = {"multi": True, "response": {MNIST_GRAPH: {"figure": patch}}}
    before = pio.json.config.default_engine
    timings = {}
    try:
        for engine in ("orjson", "json"):
            pio.json.config.default_engine = engine
            runs = []
            for _ in range(n):
                t0 = time.perf_counter()
                to_json(response)
                runs.append((time.perf_counter() - t0) * 1000)
            timings[engine] = summarize_latencies(runs)
    finally:
        pio.json.config.default_engine = before
    return timings


def profile_interactions(n: int, out_dir: Path) -> dict:
    """cProfile of the server side of each interaction (in process, Flask test client); top functions."""
    from singularity_dash.app import create_app
    from singularity_dash.config import Config

    app = create_app(Config.from_env())
    profiler = cProfile.Profile()
    transport = ProfilingTransport(TestClientTransport(app.server), profiler)
    mnist = DashSession(transport)
    mnist.load_page("/mnist")
    xor = DashSession(transport)
    xor.load_page("/xor")
    actions = Interactions(mnist, xor, n_digits=10_000, seed=99)
    summaries = {}
    for name in INTERACTIONS:
        profiler.clear()
        for _ in range(n):
            actions.run(name)
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text).strip_dirs()  # file names only: no machine paths
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(60)
        slug = name.replace(" ", "-")
        (out_dir / f"profile-{slug}.txt").write_text(text.getvalue())
        summaries[name] = _top_functions(stats, 8, n)
    return summaries


def _top_functions(stats: pstats.Stats, k: int, n: int) -> list[dict]:
    rows = []
    for (filename, line, func), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():
        rows.append({"function": f"{Path(filename).name}:{line}({func})", "calls_per_interaction": calls / n,
                     "own_ms_per_interaction": tottime * 1000 / n, "cum_ms_per_interaction": cumtime * 1000 / n})
    rows.sort(key=lambda r: r["own_ms_per_interaction"], reverse=True)
    return rows[:k]


# --- the server --------------------------------------------------------------------------------------


def start_server(env: dict, log_path: Path):
    """Start the Procfile web line; (process, base url, seconds until /healthz answered 200)."""
    from tests.live_server import start_process, wait_for_http
    from tests.redis_server import free_port

    port = free_port()
    started = time.monotonic()
    process = start_process("web", {**env, "PORT": str(port)}, log_path)
    base_url = f"http://127.0.0.1:{port}"
    wait_for_http(base_url + "/healthz", process, timeout=120)
    return process, base_url, time.monotonic() - started


def read_server_log_counts(log_path: Path) -> dict:
    """From gunicorn's log: workers restarted after max_requests, HTTP 5xx answers, unknown-callback errors."""
    try:
        text = log_path.read_text(errors="replace")
    except FileNotFoundError:
        return {}
    return {
        "recycled_workers": text.count("Autorestarting worker"),
        "http_5xx": len(re.findall(r'" 5\d\d \d', text)),
        "callback_not_found": text.count("KeyError: \"Callback function not found"),
    }


# --- the report ---------------------------------------------------------------------------------------


def collect_measured(results: dict) -> dict:
    """The numbers the targets are checked against."""
    inter = results.get("interactions", {})
    load = results.get("throughput", {}).get("32", {})
    after = results.get("memory", {}).get("after_load", {}).get("workers", [])
    get = lambda name, kind, key: inter.get(name, {}).get(kind, {}).get("latency", {}).get(key)  # noqa: E731
    gallery_gzip = inter.get("gallery digit", {}).get("cold", {}).get("gzip_bytes_median")
    first = results.get("first_load", {}).get("gzip_bytes")
    return {
        "gallery_median_ms": get("gallery digit", "warm", "median_ms"),
        "gallery_p95_ms": get("gallery digit", "warm", "p95_ms"),
        "gallery_cold_median_ms": get("gallery digit", "cold", "median_ms"),
        "gallery_cold_p95_ms": get("gallery digit", "cold", "p95_ms"),
        "gallery_gzip_kb": None if gallery_gzip is None else gallery_gzip / 1000,
        "first_load_gzip_kb": None if first is None else first / 1000,
        "selection_median_ms": get("neuron selection", "warm", "median_ms"),
        "selection_cold_median_ms": get("neuron selection", "cold", "median_ms"),
        "timeline_median_ms": get("timeline step", "warm", "median_ms"),
        "timeline_cold_median_ms": get("timeline step", "cold", "median_ms"),
        "throughput_32": load.get("interactions_per_s"),
        "throughput_32_p95_ms": load.get("p95_ms"),
        "throughput_32_errors": load.get("errors"),
        "worker_rss_max_mb": max((w["rss_mb"] for w in after), default=None),
        "cold_start_s": results.get("cold_start", {}).get("median_s"),
        "browser_median_ms": results.get("browser", {}).get("median_ms"),
    }


def build_report(results: dict) -> str:
    """The Markdown report: targets table, then the detail tables."""
    meta = results["meta"]
    parts = [
        f"## Benchmark results ({meta['mode']} run, {meta['date']})",
        "",
        f"Machine: {meta['cpus']} CPUs, Python {meta['python']}, torch {meta['torch']['version']} "
        f"({meta['torch']['build']} build); load average {meta['load_average_at_start'][0]:.1f} at the start, "
        f"{meta.get('load_average_at_end', [float('nan')])[0]:.1f} at the end (other work on the machine skews "
        "every number). Server: the Procfile `web:` line (gunicorn, "
        f"{meta['workers']} workers x {meta['threads']} threads) on loopback. Latency = sum of the HTTP round "
        "trips of every `/_dash-update-component` request one user action causes (the browser sends a "
        "wave of independent requests in parallel; the critical path is in the detail table). Requests "
        "carry Chromium's Accept-Encoding, so the server compresses as it does for a browser; gzip sizes "
        "are computed from each body at the server's gzip level.",
        "",
        build_markdown_table(build_target_rows(collect_measured(results)),
                             [("label", "Measurement"), ("value", "Measured"), ("target", "Target"),
                              ("status", "Status")]),
    ]
    inter = results.get("interactions", {})
    if inter:
        rows = []
        for name, data in inter.items():
            cold, warm = data["cold"], data["warm"]
            rows.append({
                "name": name, "requests": cold["requests_per_interaction"],
                "cold": f"{format_value(cold['latency']['median_ms'])} / {format_value(cold['latency']['p95_ms'])}",
                "warm": f"{format_value(warm['latency']['median_ms'])} / {format_value(warm['latency']['p95_ms'])}",
                "critical": format_value(cold["critical_path"]["median_ms"]),
                "raw": format_value(cold["raw_bytes_median"] / 1000, "KB"),
                "gzip": format_value(cold["gzip_bytes_median"] / 1000, "KB"),
                "wire": f"{format_value(cold['wire_bytes_median'] / 1000, 'KB')} {'/'.join(cold['encodings'])}",
                "errors": cold["errors"] + warm["errors"],
            })
        parts += ["", "### Interactions (median / p95 ms; bytes per interaction, all its responses)", "",
                  build_markdown_table(rows, [("name", "Interaction"), ("requests", "Requests"),
                                              ("cold", "Cold cache"), ("warm", "Warm cache"),
                                              ("critical", "Critical path, cold median"),
                                              ("raw", "Raw"), ("gzip", "Gzip"), ("wire", "As sent to a browser"),
                                              ("errors", "Errors")])]
        rows = []
        for name, data in inter.items():
            for output, cb in data["cold"]["callbacks"].items():
                rows.append({"name": name, "callback": _short_output(output), "count": cb["count"],
                             "ms": format_value(cb["median_ms"]),
                             "raw": format_value(cb["raw_bytes_median"] / 1000, "KB"),
                             "gzip": format_value(cb["gzip_bytes_median"] / 1000, "KB")})
        parts += ["", "### Where the time and bytes go (cold pass, per callback request, medians)", "",
                  build_markdown_table(rows, [("name", "Interaction"), ("callback", "Callback outputs"),
                                              ("count", "Requests"), ("ms", "ms"), ("raw", "Raw"),
                                              ("gzip", "Gzip")])]
    if "throughput" in results:
        rows = [{"clients": c, "rate": format_value(t["interactions_per_s"]), "p50": format_value(t.get("median_ms")),
                 "p95": format_value(t.get("p95_ms")), "n": t["interactions"], "errors": t["errors"],
                 "seconds": format_value(t["seconds"]),
                 "cpu": ", ".join(f"{v:.1f}" for v in t.get("worker_cpu_s", {}).values())
                        + (f" (+{t['recycled_workers_cpu_s']:.1f} recycled)" if t.get("recycled_workers_cpu_s") else ""),
                 "per": format_value(t.get("server_cpu_ms_per_interaction"))}
                for c, t in results["throughput"].items()]
        parts += ["", "### Throughput (a shuffled mix of the five recorded interactions, replayed)", "",
                  build_markdown_table(rows, [("clients", "Clients"), ("rate", "Interactions/s"),
                                              ("p50", "p50 ms"), ("p95", "p95 ms"), ("n", "Done"),
                                              ("errors", "Errors"), ("seconds", "Seconds"),
                                              ("cpu", "CPU s per live worker"),
                                              ("per", "Server CPU ms per interaction")])]
    if "memory" in results:
        rows = []
        for phase, data in results["memory"].items():
            if not isinstance(data, dict) or "workers" not in data:
                continue
            for role, w in [("master", data["master"])] + [("worker", w) for w in data["workers"]]:
                rows.append({"phase": f"{phase.replace('_', ' ')}: {role}", "pid": w["pid"],
                             "rss": format_value(w["rss_mb"], "MB"),
                             "pss": format_value(w.get("pss_mb"), "MB"), "uss": format_value(w.get("uss_mb"), "MB")})
        parts += ["", f"### Worker memory (torch {meta['torch']['build']} build; workers recycled during the run: "
                      f"{results['memory'].get('recycled_workers', 'n/a')})", "",
                  build_markdown_table(rows, [("phase", "Phase"), ("pid", "Pid"), ("rss", "RSS"),
                                              ("pss", "PSS"), ("uss", "Private (USS)")])]
    if "baselines" in results:
        b = results["baselines"]
        rows = [
            {"what": "Bare forward pass (service, no cache)", "median": format_value(b["forward"]["median_ms"]),
             "p95": format_value(b["forward"]["p95_ms"]), "bytes": ""},
            {"what": f"Full figure rebuild + plotly JSON ({b['full_figure']['json_engine']}) + gzip",
             "median": format_value(b["full_figure"]["median_ms"]), "p95": format_value(b["full_figure"]["p95_ms"]),
             "bytes": f"{format_value(b['full_figure']['raw_bytes_median'] / 1000, 'KB')} raw, "
                      f"{format_value(b['full_figure']['gzip_bytes_median'] / 1000, 'KB')} gzip"},
            {"what": "Forward + figure Patch + JSON (in process)",
             "median": format_value(b["patch_in_process"]["median_ms"]),
             "p95": format_value(b["patch_in_process"]["p95_ms"]),
             "bytes": f"{format_value(b['patch_in_process']['raw_bytes_median'] / 1000, 'KB')} raw"},
        ]
        for engine, timing in b.get("response_json", {}).items():
            rows.append({"what": f"Dash to_json of the gallery Patch answer, plotly engine {engine!r}",
                         "median": format_value(timing["median_ms"]), "p95": format_value(timing["p95_ms"]),
                         "bytes": ""})
        parts += ["", "### Baselines (in process, same machine, same run)", "",
                  build_markdown_table(rows, [("what", "Path"), ("median", "Median ms"), ("p95", "p95 ms"),
                                              ("bytes", "Bytes")])]
    if "first_load" in results:
        f = results["first_load"]
        rows = [{"kind": c["kind"], "path": _short_output(c["path"]), "raw": format_value(c["raw"] / 1000, "KB"),
                 "gzip": format_value(c["gzip"] / 1000, "KB")} for c in f["counted"]]
        parts += ["", f"### First load of /mnist: what is counted ({format_value(f['gzip_bytes'] / 1000, 'KB')} gzip; "
                      f"not counted: {len(f['excluded_bundles'])} JS bundles from {BUNDLE_PREFIX}, "
                      f"{format_value(f['excluded_gzip_bytes'] / 1000, 'KB')} gzip)", "",
                  build_markdown_table(rows, [("kind", "Kind"), ("path", "Path / callback"), ("raw", "Raw"),
                                              ("gzip", "Gzip")])]
    if "profiles" in results:
        rows = [{"name": name, "function": row["function"], "calls": format_value(row["calls_per_interaction"]),
                 "own": format_value(row["own_ms_per_interaction"]), "cum": format_value(row["cum_ms_per_interaction"])}
                for name, top in results["profiles"].items() for row in top[:5]]
        parts += ["", "### Server-side profile per interaction (in process, cProfile: inflates functions called "
                      "many times; full listings in results/profile-*.txt)", "",
                  build_markdown_table(rows, [("name", "Interaction"), ("function", "Function"),
                                              ("calls", "Calls"), ("own", "Own ms"), ("cum", "Cumulative ms")])]
    extra = []
    if "server_log" in results:
        log_counts = results["server_log"]
        extra.append(f"Server log over the whole run: {log_counts.get('http_5xx')} HTTP 5xx answers "
                     f"({log_counts.get('callback_not_found')} 'Callback function not found'), "
                     f"{log_counts.get('recycled_workers')} workers recycled by max_requests; warm-up errors: "
                     f"{results.get('warmup', {}).get('errors', 'n/a')}.")
    if "cold_start" in results:
        extra.append(f"Cold start runs: {', '.join(f'{s:.2f} s' for s in results['cold_start']['runs_s'])}.")
    if "browser" in results:
        br = results["browser"]
        if "median_ms" in br:
            extra.append(f"Browser: {br['count']} clicks, median {format_value(br['median_ms'])} ms, "
                         f"p95 {format_value(br['p95_ms'])} ms, WebGL renderer {br.get('webgl')}, "
                         f"errors {len(br.get('errors', []))}.")
        else:
            extra.append(f"Browser: not measured ({br.get('error', 'no result')}).")
    if extra:
        parts += ["", *extra]
    return "\n".join(parts) + "\n"


def _short_output(output: str) -> str:
    """A callback output string without `..` wrappers and `@hash` suffixes."""
    text = re.sub(r"@[0-9a-f]{16,}", "", output)
    return text.strip(".").replace("...", ", ")


# --- main ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write results/latest.json and results/latest.md."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts: checks the benchmark works (~1 min)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder for latest.json / latest.md")
    parser.add_argument("--skip-browser", action="store_true", help="do not run headless Chromium")
    parser.add_argument("--skip-profile", action="store_true", help="do not profile the interactions in process")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    data_dir = os.environ.get("SINGULARITY_DATA_DIR")
    if not data_dir:
        parser.error("set SINGULARITY_DATA_DIR to the folder holding MNIST/raw (the gallery needs it)")
    args.out.mkdir(parents=True, exist_ok=True)
    from tests.live_server import stop_process

    def log(message: str) -> None:
        print(message, flush=True)

    env = {"SINGULARITY_DATA_DIR": data_dir, "WEB_CONCURRENCY": "2"}
    env = {**env, **{k: v for k, v in os.environ.items() if k in ("GUNICORN_THREADS", "REDIS_URL")}}
    results: dict = {"meta": {
        "mode": "quick" if args.quick else "full",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "torch": memory.describe_torch_build(),
        "workers": 2,
        "threads": int(os.environ.get("GUNICORN_THREADS", "4")),
        "settings": settings.__dict__,
        "cache_backend": "redis" if os.environ.get("REDIS_URL") else "embedded (per worker)",
        "load_average_at_start": os.getloadavg(),
    }}
    logs_dir = Path(tempfile.mkdtemp(prefix="singularity-bench-"))  # access logs are large: kept out of the repo
    log_path = logs_dir / "gunicorn.log"

    log("baselines (in process)")
    results["baselines"] = measure_baselines(settings.baseline_n, data_dir)
    log("starting the Procfile web line")
    process, base_url, first_start = start_server(env, log_path)
    try:
        log(f"  /healthz answered after {first_start:.2f} s")
        log("first load of /mnist")
        results["first_load"] = measure_first_load(base_url)
        log("interaction latency, cold then warm")
        interactions, recorded = measure_interactions(base_url, settings.latency_n, 10_000, log)
        results["interactions"] = interactions
        log("warm-up of both workers")
        warmup = run_load(base_url, [s for name in INTERACTIONS for s in recorded[name]], 8,
                          settings.warmup_interactions, settings.load_seconds)
        results["warmup"] = warmup.summary()
        results["memory"] = {"after_warmup": memory.measure_workers(process.pid)}
        log("throughput")
        results["throughput"] = measure_load(base_url, recorded, settings, log, process.pid)
        results["memory"]["after_load"] = memory.measure_workers(process.pid)
        results["server_log"] = read_server_log_counts(log_path)
        results["memory"]["recycled_workers"] = results["server_log"].get("recycled_workers")
        if not args.skip_browser:
            log("browser redraw (headless Chromium)")
            try:
                results["browser"] = measure_redraw_safely(base_url, settings.browser_runs)
            except Exception as exc:  # the rest of the report stays useful without a browser
                results["browser"] = {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        stop_process(process)
    runs = [first_start]
    for attempt in range(1, settings.cold_starts):
        again, _, seconds = start_server(env, logs_dir / f"gunicorn-cold-{attempt}.log")
        stop_process(again)
        runs.append(seconds)
    results["cold_start"] = {"runs_s": runs, "median_s": statistics.median(runs)}
    if not args.skip_profile:
        log("profiles (in process)")
        results["profiles"] = profile_interactions(settings.profile_n, args.out)
    results["meta"]["load_average_at_end"] = os.getloadavg()
    results["meta"]["server_logs"] = logs_dir.name  # a folder in the system temp dir, kept out of the repo
    results["measured"] = collect_measured(results)
    results["targets"] = build_target_rows(results["measured"])
    (args.out / "latest.json").write_text(json.dumps(results, indent=1, default=str))
    report = build_report(results)
    (args.out / "latest.md").write_text(report)
    log(report)
    return 0


def measure_redraw_safely(base_url: str, runs: int) -> dict:
    """The browser benchmark (imported late: selenium is only needed here)."""
    from benchmarks.browser import measure_redraw

    return measure_redraw(base_url, runs)


if __name__ == "__main__":
    sys.exit(main())
