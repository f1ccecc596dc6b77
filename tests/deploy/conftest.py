"""Fixtures for tests that run the Procfile's processes on loopback."""

import pytest

from tests.live_server import start_process, stop_process, wait_for_http
from tests.redis_server import free_port


@pytest.fixture
def web_server(tmp_path):
    """Factory: start the Procfile's `web:` line on a free port (extra environment allowed); stopped afterwards."""
    started = []

    def start(**env):
        port = free_port()
        process = start_process("web", {"PORT": str(port), "WEB_CONCURRENCY": "2", **env},
                                tmp_path / f"web-{port}.log")
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/healthz", process)
        return base

    yield start
    for process in started:
        stop_process(process)
