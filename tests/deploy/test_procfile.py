"""The Procfile's web process serves the app; Redis is shared between processes and survives outages."""

import re
import time

import pytest
import requests

from singularity_dash.api import CACHE_HEADER
from tests.live_server import start_process, stop_process
from tests.redis_server import free_port

pytestmark = pytest.mark.slow


def forward(base, x):
    response = requests.post(f"{base}/api/models/xor/forward", json={"input": x}, timeout=10)
    assert response.status_code == 200, response.text
    return response


def test_web_line_serves_pages_and_api(web_server):
    base = web_server()
    for path in ("/", "/xor", "/mnist"):
        page = requests.get(base + path, timeout=10)
        assert page.status_code == 200 and "Singularity" in page.text
        assert page.headers["X-Frame-Options"] == "SAMEORIGIN"
    body = forward(base, [0, 1]).json()
    assert body["prediction"] == 1
    gzipped = requests.get(base + "/", headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert gzipped.headers.get("Content-Encoding") == "gzip"
    asset = re.search(r'/assets/[^"]+\?m=[0-9.]+', requests.get(base + "/xor", timeout=10).text).group(0)
    assert "max-age=31536000" in requests.get(base + asset, timeout=10).headers["Cache-Control"]


def test_two_servers_share_the_redis_cache(web_server, redis_server):
    first = web_server(REDIS_URL=redis_server.url)
    second = web_server(REDIS_URL=redis_server.url)
    assert forward(first, [0.2, 0.9]).headers[CACHE_HEADER] == "miss"
    assert forward(second, [0.2, 0.9]).headers[CACHE_HEADER] == "hit"
    health = requests.get(f"{second}/healthz", timeout=5).json()
    assert health["cache"]["backend"] == "redis"


def test_redis_outage_keeps_serving_and_caching_resumes(web_server, redis_server):
    base = web_server(REDIS_URL=redis_server.url, WEB_CONCURRENCY="1")
    forward(base, [0.5, 0.5])
    redis_server.stop()
    for _ in range(5):
        during = forward(base, [0.5, 0.5])
        assert during.headers[CACHE_HEADER] == "miss"
    assert requests.get(f"{base}/mnist", timeout=10).status_code == 200
    redis_server.start()
    deadline = time.monotonic() + 15
    statuses = []
    while time.monotonic() < deadline:
        statuses.append(forward(base, [0.5, 0.5]).headers[CACHE_HEADER])
        if statuses[-2:] == ["miss", "hit"] or statuses[-1] == "hit":
            break
        time.sleep(0.5)
    assert statuses[-1] == "hit", statuses


def test_concurrent_first_callbacks_on_fresh_workers_all_succeed(app_config, tmp_path):
    """Dash sets itself up lazily on a worker's first request; threads racing that setup once got 500s."""
    import socket
    from concurrent.futures import ThreadPoolExecutor

    from benchmarks.payloads import DashSession, TestClientTransport
    from singularity_dash.app import create_app

    recorder = DashSession(TestClientTransport(create_app(app_config).server))
    recorder.load_page("/xor")
    record = recorder.set_props("xor-x1", {"value": 0.25}, name="xor input")
    bodies = [exchange.body for exchange in record.exchanges]
    assert bodies, "moving the x1 slider fires callbacks"

    port = free_port()
    process = start_process("web", {"PORT": str(port), "WEB_CONCURRENCY": "2"}, tmp_path / "web.log")
    try:
        deadline = time.monotonic() + 60
        while True:  # wait for the socket only: no HTTP request may reach a worker before the burst
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "web process did not start"
                time.sleep(0.05)

        def post(body):
            return requests.post(f"http://127.0.0.1:{port}/_dash-update-component", data=body,
                                 headers={"Content-Type": "application/json"}, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(post, bodies * (32 // len(bodies) + 1)))
    finally:
        stop_process(process)
    assert statuses == [200] * len(statuses)
