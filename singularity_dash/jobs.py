"""The background-callback manager for long work (live training): Celery on Redis, else diskcache."""

from __future__ import annotations

import tempfile
from pathlib import Path

from dash import CeleryManager, DiskcacheManager

from .config import Config


def build_celery(redis_url: str):
    """A Celery app on Redis (broker and results), JSON only, failing fast when Redis is down."""
    from celery import Celery

    celery = Celery("singularity", broker=redis_url, backend=redis_url)
    celery.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        task_publish_retry=False,  # a dead broker answers at once, so the page can say so
        redis_socket_connect_timeout=2,
        redis_socket_timeout=5,
        result_expires=3600,
    )
    return celery


def build_background_manager(config: Config):
    """CeleryManager when REDIS_URL is set (the Procfile's `worker:` runs the jobs), else a local DiskcacheManager."""
    if config.redis_url:
        return CeleryManager(build_celery(config.redis_url), expire=3600)
    import diskcache

    folder = Path(config.extra.get("jobs_dir") or Path(tempfile.gettempdir()) / "singularity-jobs")
    return DiskcacheManager(diskcache.Cache(str(folder)), expire=3600)


def describe_jobs_outage(manager) -> str | None:
    """None when background jobs can start now; otherwise a sentence for the page saying why not."""
    if not isinstance(manager, CeleryManager):
        return None  # diskcache jobs run beside the web process: nothing external to fail
    try:
        manager.handle.backend.client.ping()
    except Exception:  # any Redis error means the queue is unreachable
        return (
            "Training runs on the shared job queue (Redis), which cannot be reached right now. "
            "Everything else on this page still works; try training again in a minute."
        )
    return None
