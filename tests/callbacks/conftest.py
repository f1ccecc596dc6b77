"""Fixtures for calling the pages' callback functions directly."""

import os
import sys
from pathlib import Path

import dash
import pytest

from singularity_dash.app import create_app
from singularity_dash.config import Config


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The /mnist page module of a fresh app, and the app (for its request context)."""
    data = os.environ.get("SINGULARITY_DATA_DIR")
    app = create_app(Config(data_dir=Path(data) if data else None,
                            extra={"jobs_dir": str(tmp_path_factory.mktemp("jobs"))}))
    entry = next(p for p in dash.page_registry.values() if p["path"] == "/mnist")
    return sys.modules[entry["module"]], app
