"""Soak test: a bounded run of mixed, partly hostile traffic against the Procfile's web server.

    python -m benchmarks.soak --duration 60 --clients 8 [--url http://host:port] [--json out.json]

Without --url it starts the `web:` line (gunicorn) on a free loopback port and stops it afterwards.
Each client thread loops over a weighted mix: valid API forwards (JSON and image upload), hostile
API calls (NaN, wrong length, huge body, garbage uploads, malformed JSON, wrong content type, deep
nesting, wrong method), page loads, and the Dash callbacks a browser fires when it opens /xor and
/mnist. It reports requests, statuses, unexpected answers and worker memory (RSS) after a warm-up
and at the end, and exits 1 on any 5xx, any connection failure, or worker memory growing more than
--max-growth (20% by default).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import requests
from PIL import Image, ImageDraw

from benchmarks.memory import find_gunicorn_workers, read_memory

HUGE_BODY_BYTES = 12_000_000  # above the default MAX_CONTENT_LENGTH (2 x 5 MB)
PAGES = ("/", "/xor", "/mnist")
REQUEST_TIMEOUT = 30


@dataclass(frozen=True)
class Interaction:
    """One kind of request: how to send it and which statuses are the right answer."""

    name: str
    weight: float
    send: Callable[[requests.Session, str, random.Random], requests.Response]
    expected: tuple[int, ...]


@dataclass
class Tally:
    """Counts shared by the client threads (guarded by a lock)."""

    requests: int = 0
    by_status: Counter = field(default_factory=Counter)
    by_interaction: Counter = field(default_factory=Counter)
    unexpected: Counter = field(default_factory=Counter)  # "name -> status" for wrong but non-5xx answers
    server_errors: Counter = field(default_factory=Counter)
    connection_errors: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, name: str, status: int | None, expected: tuple[int, ...], error: str = "") -> None:
        """Count one answer (status None: the connection failed)."""
        with self.lock:
            self.requests += 1
            self.by_interaction[name] += 1
            if status is None:
                self.connection_errors[f"{name}: {error}"] += 1
                self.by_status["connection error"] += 1
                return
            self.by_status[str(status)] += 1
            if status >= 500:
                self.server_errors[f"{name} -> {status}"] += 1
            elif status not in expected:
                self.unexpected[f"{name} -> {status}"] += 1


def build_png(rng: random.Random, size: int = 96) -> bytes:
    """A drawn digit-like stroke, dark on white, as PNG bytes."""
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    points = [(rng.randint(15, size - 15), rng.randint(15, size - 15)) for _ in range(rng.randint(2, 4))]
    draw.line(points, fill=0, width=rng.randint(6, 12))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def build_input_pools(seed: int) -> dict[str, list]:
    """Bounded pools of valid inputs, so the cache sees repeats the way a class would send them."""
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    return {
        "xor": [[round(rng.random(), 3), round(rng.random(), 3)] for _ in range(40)],
        "mnist": [np.round(np_rng.random(784) * (np_rng.random(784) < 0.2), 3).tolist() for _ in range(40)],
        "png": [build_png(rng) for _ in range(20)],
    }


def build_garbage_uploads(seed: int) -> list[tuple[str, bytes]]:
    """Files a mischievous user might upload instead of a digit."""
    rng = random.Random(seed)
    png = build_png(rng)
    return [
        ("empty.png", b""),
        ("random.png", bytes(rng.getrandbits(8) for _ in range(2048))),
        ("truncated.png", png[: len(png) // 2]),
        ("text.png", b"definitely not an image\n" * 40),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="5"/></svg>'),
        ("page.html", b"<!doctype html><html><body>hi</body></html>"),
        ("doc.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"),
        ("blank.png", _solid_png(255)),
    ]


def _solid_png(value: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (64, 64), value).save(buffer, format="PNG")
    return buffer.getvalue()


def build_api_interactions(pools: dict[str, list], garbage: list[tuple[str, bytes]]) -> list[Interaction]:
    """The JSON API's valid and hostile requests."""
    forward = "{base}/api/models/{model}/forward"

    def post_json(model: str, body: bytes | str, content_type: str = "application/json"):
        return lambda s, base, rng: s.post(forward.format(base=base, model=model), data=body,
                                           headers={"Content-Type": content_type}, timeout=REQUEST_TIMEOUT)

    def valid_json(model: str):
        return lambda s, base, rng: s.post(forward.format(base=base, model=model),
                                           json={"input": rng.choice(pools[model])}, timeout=REQUEST_TIMEOUT)

    def upload(files: list[tuple[str, bytes]]):
        def send(s, base, rng):
            name, data = rng.choice(files)
            return s.post(forward.format(base=base, model="mnist"), files={"image": (name, data)},
                          timeout=REQUEST_TIMEOUT)
        return send

    huge = b'{"input": [' + b"0," * (HUGE_BODY_BYTES // 2) + b"0]}"
    return [
        Interaction("api xor valid", 6, valid_json("xor"), (200,)),
        Interaction("api mnist valid", 6, valid_json("mnist"), (200,)),
        Interaction("api mnist upload", 4, upload([("digit.png", p) for p in pools["png"]]), (200,)),
        Interaction("api NaN", 2, post_json("xor", '{"input": [NaN, 0.5]}'), (400,)),
        Interaction("api Infinity", 1, post_json("mnist", '{"input": [Infinity' + ", 0" * 783 + "]}"), (400,)),
        Interaction("api wrong length", 2, post_json("mnist", json.dumps({"input": [0.5] * 783})), (400,)),
        Interaction("api out of range", 1, post_json("xor", '{"input": [2, -1]}'), (400,)),
        Interaction("api malformed JSON", 2, post_json("xor", '{"input": [1, 0'), (400,)),
        Interaction("api deep nesting", 1, post_json("xor", "[" * 100_000 + "]" * 100_000), (400,)),
        Interaction("api wrong content type", 2, post_json("xor", "1,0", "text/plain"), (400,)),
        Interaction("api garbage upload", 4, upload(garbage), (400,)),
        Interaction("api huge body", 0.3, post_json("mnist", huge), (413,)),
        Interaction("api unknown model", 1, post_json("resnet", '{"input": [0, 1]}'), (404,)),
        Interaction("api GET forward", 1,
                    lambda s, base, rng: s.get(forward.format(base=base, model="xor"), timeout=REQUEST_TIMEOUT), (405,)),
        Interaction("api models", 1, lambda s, base, rng: s.get(f"{base}/api/models", timeout=REQUEST_TIMEOUT), (200,)),
    ]


def build_page_interactions() -> list[Interaction]:
    """Full page loads and the Dash bootstrap endpoints a browser fetches with them."""
    interactions = [
        Interaction(f"page {path}", 2, lambda s, base, rng, p=path: s.get(base + p, timeout=REQUEST_TIMEOUT), (200,))
        for path in PAGES
    ]
    for path in ("/_dash-layout", "/_dash-dependencies", "/healthz"):
        interactions.append(Interaction(f"get {path}", 1,
                                        lambda s, base, rng, p=path: s.get(base + p, timeout=REQUEST_TIMEOUT), (200,)))
    return interactions


def _walk_layout(node, props: dict[str, dict]) -> None:
    """Collect {component id: its props} from a serialized Dash layout (string ids only)."""
    if isinstance(node, list):
        for child in node:
            _walk_layout(child, props)
    elif isinstance(node, dict):
        if "props" in node and "type" in node:
            own = node["props"]
            if isinstance(own.get("id"), str):
                props[own["id"]] = own
            _walk_layout(own.get("children"), props)
            for value in own.values():
                if isinstance(value, dict) and "props" in value:
                    _walk_layout(value, props)
        else:
            for value in node.values():
                _walk_layout(value, props)


def _parse_outputs(output: str) -> list[dict] | dict:
    """The `outputs` field of a callback request, from the dependency's output string."""
    if output.startswith("..") and output.endswith(".."):
        parts = output[2:-2].split("...")
        return [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]
    component, prop = output.rsplit(".", 1)
    return {"id": component, "property": prop}


def _pick_value(component: dict, prop: str, rng: random.Random):
    """The value a browser would send: the layout's, or for a slider a random position on it."""
    value = component.get(prop)
    low, high = component.get("min"), component.get("max")
    if prop == "value" and isinstance(low, (int, float)) and isinstance(high, (int, float)) and high > low:
        step = component.get("step") or (high - low) / 100
        return round(low + round(rng.uniform(0, (high - low) / step)) * step, 6)
    return value


def discover_callbacks(session: requests.Session, base: str, tally: Tally) -> list[Interaction]:
    """The server-side callbacks a browser fires on opening each page, as replayable requests."""
    response = session.get(f"{base}/_dash-dependencies", timeout=REQUEST_TIMEOUT)
    tally.record("get /_dash-dependencies", response.status_code, (200,))
    if response.status_code != 200:
        return []
    dependencies = response.json()
    router = next((d for d in dependencies if d["output"].startswith(".._pages_content")), None)
    if router is None:
        return []
    interactions = []
    for path in ("/xor", "/mnist"):
        payload = {
            "output": router["output"], "outputs": _parse_outputs(router["output"]),
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"], "state": [],
        }
        response = session.post(f"{base}/_dash-update-component", json=payload, timeout=REQUEST_TIMEOUT)
        tally.record(f"dash route {path}", response.status_code, (200,))
        if response.status_code != 200:
            continue
        interactions.append(Interaction(f"dash route {path}", 1, _callback_sender(payload, {}), (200,)))
        props: dict[str, dict] = {}
        _walk_layout(response.json()["response"]["_pages_content"]["children"], props)
        for dependency in dependencies:
            if dependency.get("clientside_function") or dependency.get("background") or dependency.get("prevent_initial_call"):
                continue  # only what the browser itself sends on page load, from the server
            wanted = dependency["inputs"] + dependency["state"]
            if not wanted or not all(isinstance(w["id"], str) and w["id"] in props for w in wanted):
                continue
            payload = {"output": dependency["output"], "outputs": _parse_outputs(dependency["output"]),
                       "changedPropIds": [], "inputs": [], "state": []}
            name = f"dash {path} -> {dependency['output'].strip('.').split('.')[0]}"
            interactions.append(Interaction(name, 1, _callback_sender(payload, props, dependency), (200, 204)))
    return interactions


def _callback_sender(payload: dict, props: dict[str, dict], dependency: dict | None = None):
    def send(s, base, rng):
        body = dict(payload)
        if dependency is not None:
            for part in ("inputs", "state"):
                body[part] = [{"id": w["id"], "property": w["property"],
                               "value": _pick_value(props[w["id"]], w["property"], rng)}
                              for w in dependency[part]]
            first = dependency["inputs"][0]
            body["changedPropIds"] = [f"{first['id']}.{first['property']}"]
        return s.post(f"{base}/_dash-update-component", json=body, timeout=REQUEST_TIMEOUT)
    return send


def run_interaction(session: requests.Session, base: str, rng: random.Random, item: Interaction, tally: Tally) -> None:
    """Send one request and count its answer."""
    try:
        response = item.send(session, base, rng)
        response.content  # read the whole body
    except requests.RequestException as exc:
        tally.record(item.name, None, item.expected, type(exc).__name__)
        return
    tally.record(item.name, response.status_code, item.expected)


def run_clients(base: str, interactions: list[Interaction], clients: int, duration: float, seed: int,
                tally: Tally) -> None:
    """`clients` threads, each with its own session, sending a weighted random mix until the deadline."""
    deadline = time.monotonic() + duration
    weights = [item.weight for item in interactions]

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        with requests.Session() as session:
            while time.monotonic() < deadline:
                run_interaction(session, base, rng, rng.choices(interactions, weights)[0], tally)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def warm_up(base: str, interactions: list[Interaction], rounds: int, seed: int, tally: Tally) -> None:
    """Every interaction a few times, so imports, caches and pools exist before memory is measured."""
    rng = random.Random(seed)
    with requests.Session() as session:
        for _ in range(rounds):
            for item in interactions:
                run_interaction(session, base, rng, item, tally)


def measure_rss(root_pid: int | None) -> dict[int, float]:
    """RSS in MB of each gunicorn worker under `root_pid` ({} when the server is not ours)."""
    if root_pid is None:
        return {}
    _, workers = find_gunicorn_workers(root_pid)
    sizes = {}
    for pid in workers:
        try:
            sizes[pid] = read_memory(pid)["rss_mb"]
        except FileNotFoundError:
            continue  # a worker recycled between listing and reading
    return sizes


def compute_growth(start: dict[int, float], end: dict[int, float]) -> float | None:
    """Relative growth of the workers' total RSS (None when it could not be measured)."""
    if not start or not end:
        return None
    return (sum(end.values()) - sum(start.values())) / sum(start.values())


def run_soak(base: str, root_pid: int | None, duration: float, clients: int, seed: int, max_growth: float) -> dict:
    """Warm up, measure memory, soak, measure again; the report as a dict (its 'ok' says pass/fail)."""
    tally = Tally()
    with requests.Session() as session:
        callbacks = discover_callbacks(session, base, tally)
    pools = build_input_pools(seed)
    interactions = (build_api_interactions(pools, build_garbage_uploads(seed)) + build_page_interactions()
                    + callbacks)
    warm_up(base, interactions, rounds=3, seed=seed, tally=tally)
    rss_start = measure_rss(root_pid)
    started = time.monotonic()
    run_clients(base, interactions, clients, duration, seed, tally)
    elapsed = time.monotonic() - started
    time.sleep(0.5)  # let the workers finish the last responses before reading their memory
    rss_end = measure_rss(root_pid)
    growth = compute_growth(rss_start, rss_end)
    failures = []
    if tally.server_errors:
        failures.append(f"{sum(tally.server_errors.values())} responses with status 5xx")
    if tally.connection_errors:
        failures.append(f"{sum(tally.connection_errors.values())} connection errors")
    if growth is not None and growth > max_growth:
        failures.append(f"worker memory grew {growth:.1%} (limit {max_growth:.0%})")
    return {
        "ok": not failures,
        "failures": failures,
        "duration_s": round(elapsed, 1),
        "clients": clients,
        "requests": tally.requests,
        "requests_per_s": round(tally.requests / max(elapsed, 1e-9), 1),
        "by_status": dict(sorted(tally.by_status.items())),
        "server_errors": dict(tally.server_errors),
        "connection_errors": dict(tally.connection_errors),
        "unexpected": dict(tally.unexpected),
        "by_interaction": dict(sorted(tally.by_interaction.items())),
        "dash_callbacks": len(callbacks),
        "worker_rss_mb_start": {str(k): round(v, 1) for k, v in rss_start.items()},
        "worker_rss_mb_end": {str(k): round(v, 1) for k, v in rss_end.items()},
        "workers_recycled": bool(rss_start) and set(rss_start) != set(rss_end),
        "rss_growth": None if growth is None else round(growth, 4),
    }


def format_report(report: dict) -> str:
    """The report as readable text."""
    lines = [
        f"soak: {report['requests']} requests in {report['duration_s']} s from {report['clients']} clients "
        f"({report['requests_per_s']}/s), {report['dash_callbacks']} Dash callbacks replayed",
        "statuses: " + ", ".join(f"{k}: {v}" for k, v in report["by_status"].items()),
    ]
    for title, key in (("5xx", "server_errors"), ("connection errors", "connection_errors"),
                       ("unexpected (non-5xx)", "unexpected")):
        if report[key]:
            lines.append(f"{title}: " + ", ".join(f"{k} x{v}" for k, v in report[key].items()))
    if report["worker_rss_mb_start"]:
        start, end = report["worker_rss_mb_start"], report["worker_rss_mb_end"]
        lines.append(f"worker RSS MB at start {start}, at end {end}: growth {report['rss_growth']:+.1%}"
                     + (" (workers were recycled)" if report["workers_recycled"] else ""))
    else:
        lines.append("worker RSS: not measured (server not started by this script)")
    lines.append("PASS" if report["ok"] else "FAIL: " + "; ".join(report["failures"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the soak (starting a server unless --url), print the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of mixed traffic (after warm-up)")
    parser.add_argument("--clients", type=int, default=8, help="parallel client threads")
    parser.add_argument("--url", help="soak a running server instead of starting the Procfile's web line")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY of the started server")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-growth", type=float, default=0.20, help="allowed relative worker RSS growth")
    parser.add_argument("--json", type=Path, help="also write the report here as JSON")
    args = parser.parse_args(argv)

    process = None
    if args.url:
        base = args.url.rstrip("/")
    else:
        from tests.live_server import start_process, wait_for_http
        from tests.redis_server import free_port

        port = free_port()
        log_path = Path(tempfile.mkdtemp(prefix="soak-")) / "web.log"
        process = start_process("web", {"PORT": str(port), "WEB_CONCURRENCY": str(args.workers)}, log_path)
        base = f"http://127.0.0.1:{port}"
        print(f"started the web line on {base} (log: {log_path})", flush=True)
        wait_for_http(f"{base}/healthz", process)
    try:
        report = run_soak(base, process.pid if process else None, args.duration, args.clients, args.seed,
                          args.max_growth)
    finally:
        if process is not None:
            from tests.live_server import stop_process

            stop_process(process)
    print(format_report(report), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
