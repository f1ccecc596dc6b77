"""Entry point of the Procfile's `worker:` process: `celery --app singularity_dash.celery_app worker`.

It builds the same Dash app as the web process (REDIS_URL must be set), so every background
callback is registered as a Celery task on the same Redis.
"""

from __future__ import annotations

from .app import create_app
from .config import Config
from .runtime import EXTENSION

_config = Config.from_env()
if not _config.redis_url:
    raise SystemExit("the Celery worker needs REDIS_URL (without Redis, background jobs run inside the web process)")

celery_app = create_app(_config).server.extensions[EXTENSION]["jobs"].handle
