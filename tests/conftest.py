"""Shared fixtures: settings pointing at the committed models, and the MNIST data directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from singularity_dash.cache import build_cache
from singularity_dash.config import Config
from singularity_dash.service import ModelService

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def pytest_setup_options():
    """Chromium options for dash_duo: headless-safe flags for a root user in a container, no network chatter."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for flag in ("--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1000",
                 "--use-angle=swiftshader", "--enable-unsafe-swiftshader"):
        options.add_argument(flag)
    if Path("/usr/bin/chromium").exists():
        options.binary_location = "/usr/bin/chromium"
    return options


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The MNIST data directory (SINGULARITY_DATA_DIR); the test command provides it."""
    value = os.environ.get("SINGULARITY_DATA_DIR")
    if not value:
        pytest.fail("SINGULARITY_DATA_DIR is not set: run the tests through the README's test command")
    path = Path(value)
    if not (path / "MNIST" / "raw").is_dir():
        pytest.fail(f"SINGULARITY_DATA_DIR has no MNIST/raw folder: {path}")
    return path


@pytest.fixture(scope="session")
def digits(data_dir):
    """The 10,000 MNIST test digits."""
    from singularity_dash.mnist_data import load_digits

    return load_digits(str(data_dir), "test")


@pytest.fixture(scope="session")
def service() -> ModelService:
    """The model service over the committed weights, with an embedded cache."""
    return ModelService(PROJECT_ROOT / "models", build_cache(None))


@pytest.fixture
def app_config(tmp_path) -> Config:
    """Settings for a fresh test app: committed models, the data dir when set, jobs in a temp folder."""
    data = os.environ.get("SINGULARITY_DATA_DIR")
    return Config(
        models_dir=PROJECT_ROOT / "models",
        data_dir=Path(data) if data else None,
        extra={"jobs_dir": str(tmp_path / "jobs")},
    )


@pytest.fixture
def redis_server():
    """A fresh redis-server on a free loopback port, stopped after the test."""
    from tests.redis_server import RedisServer

    server = RedisServer().start()
    yield server
    server.stop()
