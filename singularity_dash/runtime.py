"""Process-wide, read-only resources of the running app (the service, settings, the digit gallery).

Nothing here holds per-user data: the service's weights and the MNIST test set are the same for
everyone. Callbacks reach them through the Flask app they run in.
"""

from __future__ import annotations

import logging

from flask import current_app

from .config import Config
from .memo import LruMemo
from .mnist_data import DataMissing, DigitSet, load_digits
from .service import ModelService

log = logging.getLogger(__name__)
EXTENSION = "singularity"


def get_service() -> ModelService:
    """The model service of the app handling this request."""
    return current_app.extensions[EXTENSION]["service"]


def get_config() -> Config:
    """The settings of the app handling this request."""
    return current_app.extensions[EXTENSION]["config"]


def get_figure_memo() -> LruMemo:
    """The app's memo of weight-only figures (the same for every user at a checkpoint)."""
    return current_app.extensions[EXTENSION]["figures"]


def get_digits() -> DigitSet | None:
    """The MNIST test set from the configured data directory, or None when there is none."""
    data_dir = get_config().data_dir
    if data_dir is None:
        return None
    try:
        return load_digits(str(data_dir), "test")
    except (DataMissing, OSError) as exc:
        log.warning("MNIST gallery unavailable: %s", exc)
        return None


def get_jobs_outage() -> str | None:
    """None when background jobs can start; else a user-facing sentence on why they cannot."""
    from .jobs import describe_jobs_outage

    return describe_jobs_outage(current_app.extensions[EXTENSION]["jobs"])
