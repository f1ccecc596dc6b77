"""Live training runs on the Procfile's Celery worker through Redis; a Redis outage is explained in the page."""

import pytest

from singularity_dash.app import create_app
from tests.live_server import start_process, stop_process
from tests.browser.test_xor_page import TIMEOUT, _click

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def celery_worker(redis_server, tmp_path):
    """The Procfile's `worker:` process on the test's Redis."""
    process = start_process("worker", {"REDIS_URL": redis_server.url, "CELERY_CONCURRENCY": "1"},
                            tmp_path / "worker.log")
    yield process
    stop_process(process)


def test_training_job_runs_on_the_celery_worker_and_reports_progress(dash_duo, app_config, redis_server,
                                                                     celery_worker):
    app = create_app(app_config.with_changes(redis_url=redis_server.url))
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/xor")
    dash_duo.wait_for_element("#xor-train", timeout=TIMEOUT)
    _click(dash_duo, "#xor-train")
    # progress arrives while the worker trains (the live loss summary), then the result
    dash_duo.wait_for_contains_text("#xor-loss-summary", "at epoch", timeout=90)
    dash_duo.wait_for_contains_text("#xor-train-message", "4 of 4 rows right", timeout=90)
    assert celery_worker.poll() is None
    assert dash_duo.get_logs() == []


def test_redis_outage_explains_training_is_unavailable(dash_duo, app_config, redis_server):
    app = create_app(app_config.with_changes(redis_url=redis_server.url))
    dash_duo.start_server(app)
    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/xor")
    dash_duo.wait_for_element("#xor-train", timeout=TIMEOUT)
    redis_server.stop()
    _click(dash_duo, "#xor-train")
    dash_duo.wait_for_contains_text("#xor-train-outage", "cannot be reached right now", timeout=TIMEOUT)
    # the rest of the page still answers: pick a truth-table row
    _click(dash_duo, "#xor-row-10")
    dash_duo.wait_for_contains_text("#xor-prediction", "The network says 1", timeout=TIMEOUT)
    assert dash_duo.get_logs() == []
