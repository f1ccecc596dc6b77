"""The soak script in its short CI form: about a minute of mixed, partly hostile traffic, no 5xx, bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks.soak import run_soak
from tests.live_server import PROJECT_ROOT

pytestmark = pytest.mark.slow
DURATION = 40  # seconds of traffic after the warm-up; with start-up the test takes about a minute


def test_short_soak_has_no_5xx_and_bounded_memory(tmp_path):
    report_path = tmp_path / "soak.json"
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.soak", "--duration", str(DURATION), "--clients", "8",
         "--json", str(report_path)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=DURATION + 150,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["ok"] and report["server_errors"] == {} and report["connection_errors"] == {}
    assert report["rss_growth"] is not None and report["rss_growth"] <= 0.20, report
    assert len(report["worker_rss_mb_start"]) == 2
    assert report["requests"] >= 500
    # The mix really was mixed: valid and hostile API calls, page loads and Dash callbacks.
    seen = report["by_interaction"]
    for name in ("api xor valid", "api mnist upload", "api NaN", "api garbage upload", "api malformed JSON",
                 "api deep nesting", "page /mnist", "dash route /xor"):
        assert seen.get(name, 0) > 0, name
    assert report["dash_callbacks"] >= 3
    assert {"200", "400", "413"} <= set(report["by_status"])
    assert report["unexpected"] == {}, report["unexpected"]
    assert "PASS" in run.stdout


class _Failing(BaseHTTPRequestHandler):
    """A server that answers 500 to everything: the soak must notice."""

    def _fail(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = b'{"error": "boom"}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _fail

    def log_message(self, *args):
        pass


def test_the_soak_fails_on_server_errors():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        report = run_soak(f"http://127.0.0.1:{server.server_port}", None, duration=1.0, clients=2, seed=1,
                          max_growth=0.2)
    finally:
        server.shutdown()
    assert not report["ok"]
    assert report["server_errors"] and "5xx" in report["failures"][0]
