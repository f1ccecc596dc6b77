"""The background-callback manager for long work (live training): Celery on Redis, else diskcache."""

from __future__ import annotations

import tempfile
from pathlib import Path

from dash import CeleryManager, DiskcacheManager

from .config import Config


def build_background_manager(config: Config):
    """CeleryManager when REDIS_URL is set (a `worker:` process runs the jobs), else a local DiskcacheManager."""
    if config.redis_url:
        from .celery_app import build_celery

        return CeleryManager(build_celery(config.redis_url), expire=3600)
    import diskcache

    folder = Path(config.extra.get("jobs_dir") or Path(tempfile.gettempdir()) / "singularity-jobs")
    return DiskcacheManager(diskcache.Cache(str(folder)), expire=3600)
