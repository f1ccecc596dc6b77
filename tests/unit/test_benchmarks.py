"""The benchmark's own parts: statistics, callback payloads against a live app, memory reading, the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import psutil
import pytest
from dash._utils import split_callback_id, stringify_id as dash_stringify_id

from benchmarks import memory
from benchmarks.load import compute_percentile, summarize_latencies
from benchmarks.payloads import (
    DashSession,
    PayloadError,
    TestClientTransport,
    match_pattern,
    split_output,
    stringify_id,
)
from benchmarks.run import (
    TARGETS,
    build_drawing,
    build_markdown_table,
    build_target_rows,
    evaluate_target,
    read_server_log_counts,
)
from singularity_dash.app import create_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]


# --- statistics -----------------------------------------------------------------------------------


@pytest.mark.parametrize("q", [0, 5, 50, 95, 99, 100])
def test_percentile_matches_numpy(q):
    values = list(np.random.default_rng(q).exponential(10.0, size=257))
    assert compute_percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_summary_of_latencies():
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    summary = summarize_latencies(values)
    assert summary["count"] == 5
    assert summary["median_ms"] == 3.0
    assert summary["p95_ms"] == pytest.approx(float(np.percentile(values, 95)))
    assert (summary["min_ms"], summary["max_ms"], summary["mean_ms"]) == (1.0, 5.0, 3.0)
    assert summarize_latencies([]) == {"count": 0}


def test_percentile_refuses_bad_input():
    with pytest.raises(ValueError, match="no values"):
        compute_percentile([], 50)
    with pytest.raises(ValueError, match="0..100"):
        compute_percentile([1.0], 101)


# --- ids and dependency strings agree with Dash's own helpers ------------------------------------------


@pytest.mark.parametrize("component_id", ["mnist-graph", {"type": "mnist-gallery-item", "index": 7},
                                          {"b": "x", "a": [1, 2]}])
def test_stringify_id_matches_dash(component_id):
    assert stringify_id(component_id) == dash_stringify_id(component_id)


@pytest.mark.parametrize("output", ["mnist-graph.figure", "..a.data...b.children@abc123...c.is_open.."])
def test_split_output_matches_dash(output):
    expected = split_callback_id(output)
    expected = expected if isinstance(expected, list) else [expected]
    assert split_output(output) == expected


def test_pattern_matching():
    pattern = {"type": "item", "index": ["ALL"]}
    assert match_pattern(pattern, {"type": "item", "index": 3})
    assert not match_pattern(pattern, {"type": "other", "index": 3})
    assert not match_pattern(pattern, {"type": "item"})
    assert not match_pattern(pattern, "item")


# --- payloads against a live app ------------------------------------------------------------------


@pytest.fixture
def session(app_config):
    """A simulated browser tab on a fresh app, over Flask's test client."""
    return DashSession(TestClientTransport(create_app(app_config).server))


def test_xor_slider_fires_the_callbacks_the_browser_fires(session):
    session.load_page("/xor")
    record = session.set_props("xor-x1", {"value": 0.25}, name="xor input")
    assert record.errors == []
    fired = {e.output for e in record.exchanges}
    deps = json.loads(session.transport.get("/_dash-dependencies").body)
    expected = {d["output"] for d in deps if not d["clientside_function"]
                and any(i["id"] == "xor-x1" and i["property"] == "value" for i in d["inputs"])}
    assert fired == expected
    graph = next(e for e in record.exchanges if e.output.startswith("..xor-graph.figure"))
    body = json.loads(graph.body)
    assert body["changedPropIds"] == ["xor-x1.value"]
    x1 = next(i for i in body["inputs"] if i["id"] == "xor-x1")
    assert x1 == {"id": "xor-x1", "property": "value", "value": 0.25}
    assert [o["id"] for o in body["outputs"]] == [o["id"] for o in split_callback_id(body["output"])]
    # The server answered this exact body: the prediction text follows the new input.
    answer = json.loads(graph.response.body)["response"]
    assert "xor-prediction" in answer and "xor-graph" in answer


def test_unknown_component_is_a_clear_error(session):
    with pytest.raises(PayloadError, match="not in the current layout|no component"):
        session.set_props("no-such-id", {"value": 1})


@pytest.mark.slow
def test_gallery_click_is_one_request_that_patches_the_graph(session, data_dir):
    session.load_page("/mnist")
    items = session.ids_matching({"type": "mnist-gallery-item", "index": ["ALL"]})
    assert len(items) > 1
    chosen = {"source": "gallery", "index": items[1]["index"]}  # what the thumbnail's clientside callback writes
    record = session.set_props("mnist-input", {"data": chosen}, name="gallery digit")
    assert record.errors == []
    assert len(record.exchanges) == 1  # the 3D view and every panel answer in one request
    body = json.loads(record.exchanges[0].body)
    assert body["changedPropIds"] == ["mnist-input.data"]
    assert {"id": "mnist-input", "property": "data", "value": chosen} in body["inputs"]
    answer = json.loads(record.exchanges[0].response.body)["response"]
    assert answer["mnist-graph"]["figure"].get("__dash_patch_update") == "__dash_patch_update"
    assert answer["mnist-query"]["data"] == f"?digit={chosen['index']}"
    assert record.total_ms >= record.critical_path_ms > 0


def test_drawing_is_an_inked_pad():
    pixels = np.asarray(build_drawing(np.random.default_rng(0)))
    assert pixels.shape == (56, 56)
    assert pixels.min() >= 0 and pixels.max() == 255
    assert 0.02 < (pixels > 0).mean() < 0.6


# --- memory ---------------------------------------------------------------------------------------


def test_status_parsing():
    text = "Name:\tpython\nVmRSS:\t  123456 kB\nPss:   77 kB\n"
    assert memory.parse_status_kib(text, "VmRSS") == 123456
    assert memory.parse_status_kib(text, "Pss") == 77
    assert memory.parse_status_kib(text, "VmHWM") is None


def test_own_memory_matches_psutil():
    reading = memory.read_memory(os.getpid())
    rss = psutil.Process().memory_info().rss / 1e6
    assert reading["rss_mb"] == pytest.approx(rss, rel=0.05)
    assert 0 < reading["uss_mb"] <= reading["rss_mb"]


def test_finds_a_master_and_its_workers():
    sleeper = "import time; time.sleep(30)"
    code = (f"import subprocess, sys, time; ps = [subprocess.Popen([sys.executable, '-c', '{sleeper}', 'gunicorn-w'])"
            " for _ in range(2)]; time.sleep(30)")
    shell = subprocess.Popen(["sh", "-c", f'{sys.executable} -c "{code}" gunicorn-master; true'])
    try:
        master, workers = None, []
        for _ in range(100):
            master, workers = memory.find_gunicorn_workers(shell.pid)
            if len(workers) == 2:
                break
            subprocess.run(["sleep", "0.1"])
        assert master is not None and master != shell.pid  # the shell line is not the master
        assert memory.read_cmdline(master).endswith("gunicorn-master")
        assert len(workers) == 2 and all(memory.read_cmdline(w).endswith("gunicorn-w") for w in workers)
    finally:
        for child in psutil.Process(shell.pid).children(recursive=True):
            child.kill()
        shell.kill()
        shell.wait()


def test_torch_build_is_named():
    import torch

    build = memory.describe_torch_build()
    assert build["version"] == torch.__version__
    assert build["build"] == ("CPU" if torch.version.cuda is None else f"CUDA {torch.version.cuda}")


# --- the report -----------------------------------------------------------------------------------


def test_target_evaluation():
    assert evaluate_target(20.0, 20.0, False) == "PASS"
    assert evaluate_target(20.1, 20.0, False) == "MISS"
    assert evaluate_target(150.0, 150.0, True) == "PASS"
    assert evaluate_target(149.0, 150.0, True) == "MISS"
    assert evaluate_target(None, 1.0, False) == "n/a"


def test_markdown_table():
    rows = [{"a": "x|y", "b": 1}, {"a": "z"}]
    table = build_markdown_table(rows, [("a", "A"), ("b", "B")]).splitlines()
    assert table[0] == "| A | B |"
    assert table[1] == "|---|---|"
    assert table[2] == "| x\\|y | 1 |"
    assert table[3] == "| z |  |"


def test_every_target_gets_a_row_with_its_status():
    measured = {key: limit for key, (_label, limit, _unit, _higher) in TARGETS.items()}
    measured["gallery_median_ms"] = 35.0
    rows = {row["key"]: row for row in build_target_rows(measured)}
    assert set(rows) == set(TARGETS)
    assert rows["gallery_median_ms"]["status"] == "MISS"
    assert rows["gallery_median_ms"]["target"] == "<= 20 ms"
    assert rows["throughput_32"]["status"] == "PASS"
    assert all(row["status"] in ("PASS", "MISS") for row in rows.values())


# --- end to end -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_quick_run_end_to_end(tmp_path, data_dir):
    env = {**os.environ, "SINGULARITY_DATA_DIR": str(data_dir)}
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--quick", "--skip-profile", "--skip-browser", "--out", str(tmp_path)],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = json.loads((tmp_path / "latest.json").read_text())
    missing = [key for key, value in results["measured"].items() if value is None and key != "browser_median_ms"]
    assert missing == []
    assert results["throughput"]["32"]["errors"] == 0
    assert len(results["memory"]["after_load"]["workers"]) == 2
    report = (tmp_path / "latest.md").read_text()
    statuses = [line.rsplit("|", 2)[1].strip() for line in report.splitlines()
                if line.startswith("| ") and line.rstrip().endswith(("PASS |", "MISS |", "n/a |"))]
    assert len(statuses) == len(TARGETS)
    assert statuses.count("n/a") == 1  # the browser row: skipped here


def test_cpu_seconds_match_psutil():
    sum(i * i for i in range(2_000_000))  # spend some CPU
    mine = memory.read_cpu_seconds(os.getpid())
    times = psutil.Process().cpu_times()
    assert mine == pytest.approx(times.user + times.system, abs=0.05)
    child = subprocess.run([sys.executable, "-c", "sum(i * i for i in range(3_000_000))"])
    assert child.returncode == 0
    reaped = memory.read_cpu_seconds(os.getpid(), reaped_children=True)
    times = psutil.Process().cpu_times()
    assert reaped == pytest.approx(times.children_user + times.children_system, abs=0.05)
    assert reaped > 0


def test_server_log_counts(tmp_path):
    log = tmp_path / "gunicorn.log"
    log.write_text(
        '127.0.0.1 - - [t] "POST /_dash-update-component HTTP/1.1" 200 812 "-" "-"\n'
        '127.0.0.1 - - [t] "POST /_dash-update-component HTTP/1.1" 500 265 "-" "-"\n'
        'KeyError: "Callback function not found for output \'mnist-query.data\'."\n'
        "[t] [12] [INFO] Autorestarting worker after current request.\n"
        '127.0.0.1 - - [t] "GET /healthz HTTP/1.1" 503 20 "-" "-"\n'
    )
    assert read_server_log_counts(log) == {"recycled_workers": 1, "http_5xx": 2, "callback_not_found": 1}
    assert read_server_log_counts(tmp_path / "missing.log") == {}
